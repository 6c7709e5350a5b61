/**
 * One detector per rule kind: reads a reading, updates the rule's memory for the device, and says
 * whether the condition holds. The memory is five numbers whatever the kind (slots N to V of the
 * rule's numbers: see slots.ts) — O(1), one layout on the hot path, a few bytes in the state store.
 * What holding means over time (for, clearFor, cooldown) is the alert lifecycle's business.
 */
import { formatDuration } from './duration.ts'
import { type Model, scoreReading } from './model.ts'
import type { PlannedRule } from './rule-plan.ts'
import type { Rule, RuleKind, RuleOf } from './rules.ts'
import { M, N, T, V, X } from './slots.ts'

/** A device's rule numbers (see slots.ts); `at` says where a rule's own start. */
type Numbers = number[]

export interface Context {
  /** Champion models by device type, for model-score rules. */
  models: ReadonlyMap<string, Model>
}

export const noModels: Context = { models: new Map() }

/** What a detector saw in one reading: written into a reused object, so the hot path allocates nothing. */
export interface Observation {
  holds: boolean
  /** What the alert would report, before `reported`: the reading's value, a rate, a z-score, a score. */
  value: number
}

/**
 * Reads a reading for a rule: updates the memory, says in `out` whether the condition holds; false
 * when the reading says nothing to the rule (no model to score it with). `value` is the reading's
 * value of the rule's metric, which the caller has found present (unused by rules with no metric).
 * One function switching on the kind rather than a method per kind: the call stays monomorphic and
 * the detectors can be inlined into the hot loop.
 */
export function detect(
  plan: PlannedRule,
  m: Numbers,
  at: number,
  ts: number,
  value: number,
  metrics: Record<string, number>,
  active: boolean,
  context: Context,
  out: Observation,
): boolean {
  // The plan's kind, not the rule's: every plan has the same shape, rules do not.
  switch (plan.kind) {
    case 'threshold':
      return threshold(plan.rule as RuleOf<'threshold'>, value, active, out)
    case 'rate':
      return rate(plan.rule as RuleOf<'rate'>, m, at, ts, value, out)
    case 'zscore': {
      const rule = plan.rule as RuleOf<'zscore'>
      const limit = active ? (rule.clear ?? rule.z * 0.75) : rule.z
      deviation(m, at, value, plan.decay, rule.warmup, limit, 'both', rule.halfLife, out)
      return true
    }
    case 'spike': {
      const rule = plan.rule as RuleOf<'spike'>
      deviation(m, at, value, plan.decay, rule.warmup, rule.z, rule.direction, SPIKE_REBASE_AFTER, out)
      return true
    }
    case 'flatline':
      return flatline(plan.rule as RuleOf<'flatline'>, m, at, ts, value, out)
    case 'heartbeat':
      // T: the newest device time heard from the device. Any reading means it is alive.
      if (ts > (m[at + T] as number)) m[at + T] = ts
      out.holds = false
      out.value = 0
      return true
    case 'model-score':
      return modelScore(plan.rule as RuleOf<'model-score'>, m, at, ts, metrics, active, context, out)
  }
}

/** What an alert of a rule kind says about itself: built only when an alert changes. */
interface Detector<R extends Rule> {
  /** The boundary the alert reports as its threshold. */
  limit(rule: R, context: Context): number
  /** For people. */
  describe(rule: R, value: number, active: boolean, m: Numbers, at: number): string
}

function threshold(rule: RuleOf<'threshold'>, value: number, active: boolean, out: Observation): boolean {
  const above = rule.above !== undefined
  const limit = active ? (rule.clear ?? boundOf(rule)) : boundOf(rule)
  out.holds = above ? (active ? value >= limit : value > limit) : active ? value <= limit : value < limit
  out.value = value
  return true
}

const thresholdText: Detector<RuleOf<'threshold'>> = {
  limit: (rule) => boundOf(rule),
  describe(rule, value, active) {
    if (!active) return `${rule.metric} ${value} is back past ${rule.clear ?? boundOf(rule)}`
    const held = rule.for ? ` for ${formatDuration(rule.for)}` : ''
    return `${rule.metric} ${value} is ${rule.above !== undefined ? 'above' : 'below'} ${boundOf(rule)}${held}`
  },
}

function boundOf(rule: RuleOf<'threshold'>): number {
  return (rule.above ?? rule.below) as number
}

function rate(
  rule: RuleOf<'rate'>,
  m: Numbers,
  at: number,
  ts: number,
  value: number,
  out: Observation,
): boolean {
  const first = m[at + N] === 0
  const since = m[at + T] as number
  const change = first || ts <= since ? 0 : ((value - (m[at + X] as number)) / (ts - since)) * rule.per
  m[at + N] = 1
  m[at + X] = value
  m[at + T] = ts
  out.holds =
    (rule.rise !== undefined && change > rule.rise) || (rule.fall !== undefined && change < -rule.fall)
  out.value = change
  return true
}

const rateText: Detector<RuleOf<'rate'>> = {
  limit: (rule) => rule.rise ?? rule.fall ?? 0,
  describe(rule, value, active) {
    const per = formatDuration(rule.per)
    if (!active) return `${rule.metric} changes ${value} per ${per} again, within bounds`
    const bound = value > 0 ? `rise of ${rule.rise}` : `fall of ${rule.fall}`
    return `${rule.metric} changes ${value} per ${per}, past a ${bound}`
  },
}

const zscoreText: Detector<RuleOf<'zscore'>> = {
  limit: (rule) => rule.z,
  describe(rule, value, active, m, at) {
    const usual = `usual ${round(m[at + M] as number)}, noise ± ${round(Math.sqrt(m[at + V] as number))}`
    if (!active) return `${rule.metric} is back near its baseline (z ${value}; ${usual})`
    return `${rule.metric} is ${value} standard deviations from its baseline (${usual})`
  },
}

/** Three jumping readings in a row are a new level, not a spike. */
const SPIKE_REBASE_AFTER = 3

const spikeText: Detector<RuleOf<'spike'>> = {
  limit: (rule) => rule.z,
  describe(rule, value, active, m, at) {
    if (!active) return `${rule.metric} is back in line (z ${value})`
    return `${rule.metric} ${value > 0 ? 'spiked' : 'dipped'} ${Math.abs(value)} standard deviations from ${round(m[at + M] as number)}`
  },
}

/**
 * The deviation detector behind zscore and spike: how far the value is from an exponentially
 * weighted mean (M), in units of the sensor's noise (√V). The noise is learned from the differences
 * between consecutive readings — X keeps the last value — so a slow drift, which moves each reading
 * a little, cannot widen it. An outlier moves the mean by at most `limit` noise units; after
 * `rebaseAfter` outliers in a row (T counts them) the new level becomes the baseline. Silent for the
 * first `warmup` readings (N counts them), while the baseline forms. Returns the z-score; sets `holds`.
 */
function deviation(
  m: Numbers,
  at: number,
  value: number,
  /** The weight of a new reading at the rule's half-life: `1 - 2 ** (-1 / halfLife)`. */
  decay: number,
  warmup: number,
  limit: number,
  direction: 'both' | 'up' | 'down',
  rebaseAfter: number,
  out: Observation,
): void {
  const n = m[at + N] as number
  const mean = m[at + M] as number
  const sd = Math.sqrt(m[at + V] as number)
  const z = n < 2 ? 0 : (value - mean) / Math.max(sd, 1e-9)
  const outlier = n >= warmup && Math.abs(z) > limit
  out.holds = outlier && (direction === 'both' || (direction === 'up' ? z > 0 : z < 0))
  out.value = Math.max(-1e9, Math.min(1e9, z))
  // A true running mean while warming up, then a fixed half-life.
  const alpha = Math.max(decay, 1 / (n + 1))
  const run = m[at + T] as number
  if (n > 0 && !outlier && run === 0) {
    const step = value - (m[at + X] as number)
    m[at + V] = (m[at + V] as number) + alpha * ((step * step) / 2 - (m[at + V] as number))
  }
  if (!outlier) {
    m[at + M] = mean + alpha * (value - mean)
    m[at + T] = 0
  } else if (run + 1 >= rebaseAfter) {
    m[at + M] = value
    m[at + T] = 0
  } else {
    m[at + M] = mean + alpha * Math.sign(z) * limit * sd
    m[at + T] = run + 1
  }
  m[at + X] = value
  m[at + N] = n + 1
}

function flatline(
  rule: RuleOf<'flatline'>,
  m: Numbers,
  at: number,
  ts: number,
  value: number,
  out: Observation,
): boolean {
  // X: the value the run started with, T: when, N: readings in the run.
  let n = m[at + N] as number
  if (n > 0 && Math.abs(value - (m[at + X] as number)) <= rule.tolerance) n++
  else {
    m[at + X] = value
    m[at + T] = ts
    n = 1
  }
  m[at + N] = n
  out.holds =
    (rule.unchangedReadings !== undefined && n >= rule.unchangedReadings) ||
    (rule.unchangedFor !== undefined && ts - (m[at + T] as number) >= rule.unchangedFor)
  out.value = value
  return true
}

const flatlineText: Detector<RuleOf<'flatline'>> = {
  limit: (rule) => rule.unchangedReadings ?? rule.unchangedFor ?? 0,
  describe(rule, value, active, m, at) {
    if (!active) return `${rule.metric} moves again (${value})`
    return `${rule.metric} has stayed at ${m[at + X]} for ${m[at + N]} readings`
  },
}

const heartbeatText: Detector<RuleOf<'heartbeat'>> = {
  limit: (rule) => rule.after,
  describe(rule, value, active) {
    if (!active) return 'the device is heard from again'
    return `no telemetry for ${formatDuration(Math.round(value / 1000) * 1000)} (expected within ${formatDuration(rule.after)})`
  },
}

function modelScore(
  rule: RuleOf<'model-score'>,
  m: Numbers,
  at: number,
  ts: number,
  metrics: Record<string, number>,
  active: boolean,
  context: Context,
  out: Observation,
): boolean {
  const model = context.models.get(rule.deviceType)
  if (!model) return false
  const score = scoreReading(model, metrics, ts)
  if (score === undefined) return false
  const limit = rule.above ?? model.threshold
  out.holds = active ? score >= limit * 0.9 : score > limit
  out.value = score
  m[at + X] = score
  return true
}

const modelScoreText: Detector<RuleOf<'model-score'>> = {
  limit: (rule, context) => rule.above ?? context.models.get(rule.deviceType)?.threshold ?? 0,
  describe(rule, value, active) {
    if (!active) return `the ${rule.deviceType} model scores the device normal again (${value})`
    return `the ${rule.deviceType} model scores the device ${value}, past ${rule.above ?? 'its threshold'}`
  },
}

const detectors: { [K in RuleKind]: Detector<RuleOf<K>> } = {
  threshold: thresholdText,
  rate: rateText,
  zscore: zscoreText,
  spike: spikeText,
  flatline: flatlineText,
  heartbeat: heartbeatText,
  'model-score': modelScoreText,
}

export function detectorOf<R extends Rule>(rule: R): Detector<R> {
  return detectors[rule.kind] as unknown as Detector<R>
}

/** The kinds whose alerts report a value their detector derived — a rate, a z-score, a score. */
const DERIVED: ReadonlySet<RuleKind> = new Set(['rate', 'zscore', 'spike', 'model-score'])

/**
 * The value an alert reports for what `detect` saw: a derived one to three decimals, a reading's own
 * as it came. Worked out only when an alert changes, not for every reading.
 */
export function reported(plan: PlannedRule, value: number): number {
  return DERIVED.has(plan.kind) ? round(value) : value
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000
}
