/**
 * Rules as configuration. A rule watches one metric (or, for heartbeat, the device itself) of the
 * devices it selects; its detector (detectors.ts) says per reading whether the condition holds, and
 * the alert lifecycle (alerts.ts) turns that into transitions. Fields every kind shares — selection,
 * severity, `for`, `clearFor`, `cooldown`, `escalate`, `command` — live in RuleBase.
 */
import * as z from 'zod/mini'
import './_zod-messages.ts'
import { parseDuration } from './duration.ts'
import { DEVICE_TYPE_PATTERN } from './model.ts'
import { METRIC_NAME_PATTERN } from './wire.ts'

export const SEVERITIES = ['info', 'warning', 'critical'] as const
export const Severity = z.enum(SEVERITIES)
export type Severity = z.infer<typeof Severity>

const CommandSpec = z.object({
  name: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/)),
  args: z.optional(z.record(z.string(), z.unknown())),
})

/** `"5m"`, `"30s"`, or a number of milliseconds. */
const Duration = z.pipe(
  z.union([z.string(), z.number().check(z.nonnegative())]),
  z.transform((given, ctx): number => {
    const ms = typeof given === 'number' ? given : parseDuration(given)
    if (ms === undefined) {
      ctx.issues.push({ code: 'custom', message: 'must be a duration such as 30s, 5m or 1h', input: given })
      return z.NEVER
    }
    return ms
  }),
)

const Metric = z.string().check(z.regex(METRIC_NAME_PATTERN, 'metric names are [a-z][a-z0-9_]{0,63}'))
const Readings = z.int().check(z.positive())
const DeviceType = z.string().check(z.regex(DEVICE_TYPE_PATTERN, 'device types are [a-z][a-z0-9-]{0,31}'))

/** Which devices a device type covers: its globs, minus those of the types listed before it. */
const TypeMatch = z.object({ include: z.array(z.string()), exclude: z.array(z.string()) })

const RuleBase = z.object({
  id: z
    .string()
    .check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'rule ids are lower-case letters, digits, . _ -')),
  severity: Severity,
  /** Which devices the rule watches: `*` wildcards over the device id. */
  devices: z._default(z.string(), '*'),
  /** Narrows `devices` to one type of the rules file's `deviceTypes`. */
  deviceType: z.optional(DeviceType),
  /** Filled in from `deviceTypes` when the rules are parsed. */
  typeMatch: z.optional(TypeMatch),
  /** How long (device time) the condition must hold before an alert opens; at once without it. */
  for: z.optional(Duration),
  /** How long the condition must stay gone before an open alert clears: stops flapping. */
  clearFor: z.optional(Duration),
  /** After a clear, how long before the rule may open again for the device: stops storms. */
  cooldown: z.optional(Duration),
  /** Raises an alert's severity once it has been open this long. */
  escalate: z.optional(z.object({ after: Duration, severity: Severity })),
  /** Sent to the device when an alert opens. */
  command: z.optional(CommandSpec),
})

function exactlyOne(a: unknown, b: unknown): boolean {
  return (a === undefined) !== (b === undefined)
}

/**
 * "above 80 for 5 minutes, clears below 75": the condition holds while the value is beyond the threshold and
 * lets go only once it is back past `clear`, so a value hovering at the edge does not flap.
 */
export const ThresholdRuleSchema = z
  .extend(RuleBase, {
    kind: z.literal('threshold'),
    metric: Metric,
    above: z.optional(z.number()),
    below: z.optional(z.number()),
    clear: z.optional(z.number()),
  })
  .check(
    z.superRefine((rule, ctx) => {
      if (!exactlyOne(rule.above, rule.below)) {
        ctx.addIssue({ code: 'custom', path: ['above'], message: 'set exactly one of above or below' })
        return
      }
      if (rule.clear === undefined) return
      if (rule.above !== undefined && rule.clear > rule.above) {
        ctx.addIssue({ code: 'custom', path: ['clear'], message: 'clear must be at or below `above`' })
      }
      if (rule.below !== undefined && rule.clear < rule.below) {
        ctx.addIssue({ code: 'custom', path: ['clear'], message: 'clear must be at or above `below`' })
      }
    }),
  )

/** "rises faster than 5 °C a minute": the change between consecutive readings, per `per`. */
export const RateRuleSchema = z
  .extend(RuleBase, {
    kind: z.literal('rate'),
    metric: Metric,
    /** Largest rise per `per` that is normal (a magnitude). */
    rise: z.optional(z.number().check(z.positive())),
    /** Largest fall per `per` that is normal (a magnitude). */
    fall: z.optional(z.number().check(z.positive())),
    per: z._default(Duration, 60_000),
  })
  .check(
    z.superRefine((rule, ctx) => {
      if (rule.rise === undefined && rule.fall === undefined)
        ctx.addIssue({ code: 'custom', path: ['rise'], message: 'set rise, fall or both' })
      if (rule.per <= 0) ctx.addIssue({ code: 'custom', path: ['per'], message: 'must be longer than 0' })
    }),
  )

/**
 * "far from what this device usually reads": an exponentially weighted mean and variance per device
 * (its learned baseline); the condition holds while |x − mean| / σ exceeds `z`, and lets go below `clear`.
 * Silent for the first `warmup` readings while the baseline forms; readings that hold the condition
 * do not teach the baseline, so a slow drift cannot hide itself.
 */
export const ZScoreRuleSchema = z
  .extend(RuleBase, {
    kind: z.literal('zscore'),
    metric: Metric,
    z: z._default(z.number().check(z.positive()), 4),
    clear: z.optional(z.number().check(z.nonnegative())),
    /** Readings after which an old reading weighs half: the baseline's memory. */
    halfLife: z._default(Readings, 100),
    warmup: z._default(Readings, 30),
  })
  .check(
    z.superRefine((rule, ctx) => {
      if (rule.clear !== undefined && rule.clear > rule.z)
        ctx.addIssue({ code: 'custom', path: ['clear'], message: 'clear must be at or below z' })
    }),
  )

/**
 * "one reading jumps away from its neighbours": the reading's deviation from a fast-moving baseline,
 * against that baseline's typical deviation. Holds for the jumping reading only.
 */
export const SpikeRuleSchema = z.extend(RuleBase, {
  kind: z.literal('spike'),
  metric: Metric,
  z: z._default(z.number().check(z.positive()), 6),
  direction: z._default(z.enum(['both', 'up', 'down']), 'both'),
  /** The fast baseline's half-life, in readings. */
  halfLife: z._default(Readings, 5),
  warmup: z._default(Readings, 10),
})

/** "the sensor is stuck": the value has not moved by more than `tolerance` for N readings or a duration. */
export const FlatlineRuleSchema = z
  .extend(RuleBase, {
    kind: z.literal('flatline'),
    metric: Metric,
    unchangedReadings: z.optional(Readings),
    unchangedFor: z.optional(Duration),
    tolerance: z._default(z.number().check(z.nonnegative()), 0),
  })
  .check(
    z.superRefine((rule, ctx) => {
      if (rule.unchangedReadings === undefined && rule.unchangedFor === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['unchangedReadings'],
          message: 'set unchangedReadings, unchangedFor or both',
        })
    }),
  )

/**
 * "the device has gone quiet": no telemetry for `after` (found by the sweep, which runs on a timer),
 * or at once when the device's last will (`offline`) arrives. Any reading, or a birth message, clears it.
 */
export const HeartbeatRuleSchema = z.extend(RuleBase, {
  kind: z.literal('heartbeat'),
  after: Duration,
  offline: z._default(z.boolean(), true),
})

/** "the device type's trained model finds this reading unusual": its score above the model's threshold. */
export const ModelScoreRuleSchema = z.extend(RuleBase, {
  kind: z.literal('model-score'),
  deviceType: DeviceType,
  /** Overrides the model's own threshold. */
  above: z.optional(z.number().check(z.positive())),
})

export const RuleSchema = z.discriminatedUnion('kind', [
  ThresholdRuleSchema,
  RateRuleSchema,
  ZScoreRuleSchema,
  SpikeRuleSchema,
  FlatlineRuleSchema,
  HeartbeatRuleSchema,
  ModelScoreRuleSchema,
])
export type Rule = z.infer<typeof RuleSchema>
export type RuleInput = z.input<typeof RuleSchema>
export type RuleKind = Rule['kind']
export type RuleOf<K extends RuleKind> = Extract<Rule, { kind: K }>
export const RULE_KINDS = [
  'threshold',
  'rate',
  'zscore',
  'spike',
  'flatline',
  'heartbeat',
  'model-score',
] as const satisfies readonly RuleKind[]

/** Rules watching one metric's values; heartbeat and model-score watch the device or the whole reading. */
export type MetricRule = Extract<Rule, { metric: string }>

/** A device type: the device ids it covers, as `*` globs. The first type that matches a device wins. */
const DeviceTypeSpec = z.object({
  name: DeviceType,
  devices: z.union([z.string(), z.array(z.string()).check(z.minLength(1))]),
})
export type DeviceTypeSpec = z.infer<typeof DeviceTypeSpec>

export const RulesFileSchema = z.object({
  deviceTypes: z._default(z.array(DeviceTypeSpec), []),
  rules: z.array(RuleSchema),
})

/** Parses rules, naming the rule and field of every problem; `deviceTypes` resolves `deviceType`. */
export function parseRules(input: unknown, deviceTypes: readonly DeviceTypeSpec[] = []): Rule[] {
  const parsed = z.array(RuleSchema).safeParse(input)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const [index, ...field] = issue.path
      const id = typeof index === 'number' ? (input as { id?: unknown }[])[index]?.id : undefined
      return `rule ${String(id ?? index ?? '')} ${field.join('.')}: ${issue.message}`.replace(/\s+:/, ':')
    })
    throw new RulesError(`invalid rules — ${problems.join('; ')}`)
  }
  const rules = parsed.data
  const problems: string[] = []
  const seen = new Set<string>()
  for (const rule of rules) {
    if (seen.has(rule.id)) problems.push(`rule ${rule.id} id: duplicate rule id ${rule.id}`)
    seen.add(rule.id)
    if (rule.deviceType === undefined) continue
    const index = deviceTypes.findIndex((t) => t.name === rule.deviceType)
    if (index < 0) {
      problems.push(`rule ${rule.id} deviceType: ${rule.deviceType} is not one of the deviceTypes`)
      continue
    }
    rule.typeMatch = {
      include: globsOf(deviceTypes[index] as DeviceTypeSpec),
      exclude: deviceTypes.slice(0, index).flatMap(globsOf),
    }
  }
  if (problems.length > 0) throw new RulesError(`invalid rules — ${problems.join('; ')}`)
  return rules
}

/**
 * Rules from JSON text — an environment variable, a file: an array of rules, or
 * `{ "deviceTypes": [...], "rules": [...] }` — with the same errors as `parseRules`.
 */
export function parseRulesJson(text: string): Rule[] {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    throw new RulesError(`rules are not JSON: ${(error as Error).message}`)
  }
  return parseRulesDocument(body)
}

/** A parsed rules document (JSON or YAML): an array of rules, or an object with `rules` and `deviceTypes`. */
export function parseRulesDocument(body: unknown): Rule[] {
  if (Array.isArray(body)) return parseRules(body)
  const file = RulesFileSchema.safeParse(body)
  if (!file.success && (body === null || typeof body !== 'object' || !('rules' in body)))
    throw new RulesError('rules must be an array, or an object with a `rules` array')
  if (!file.success) {
    // Let the rule-by-rule parse name the rule at fault; device types are checked here.
    const types = RulesFileSchema.shape.deviceTypes.safeParse((body as { deviceTypes?: unknown }).deviceTypes)
    if (!types.success) {
      const issue = types.error.issues[0]
      throw new RulesError(`invalid deviceTypes — ${issue?.path.join('.')}: ${issue?.message}`)
    }
    return parseRules((body as { rules: unknown }).rules, types.data)
  }
  return parseRules((body as { rules: unknown }).rules, file.data.deviceTypes)
}

export class RulesError extends Error {
  override name = 'RulesError'
}

/** Whether a rule watches a device. */
export function selects(rule: Rule, deviceId: string): boolean {
  if (rule.devices !== '*' && !globToRegExp(rule.devices).test(deviceId)) return false
  const match = rule.typeMatch
  if (!match) return true
  return (
    match.include.some((g) => globToRegExp(g).test(deviceId)) &&
    !match.exclude.some((g) => globToRegExp(g).test(deviceId))
  )
}

/** The first device type whose globs match the device. */
export function deviceTypeOf(deviceTypes: readonly DeviceTypeSpec[], deviceId: string): string | undefined {
  return deviceTypes.find((t) => globsOf(t).some((g) => globToRegExp(g).test(deviceId)))?.name
}

function globsOf(type: DeviceTypeSpec): string[] {
  return typeof type.devices === 'string' ? [type.devices] : type.devices
}

const globs = new Map<string, RegExp>()
function globToRegExp(glob: string): RegExp {
  let re = globs.get(glob)
  if (!re) {
    const body = glob.split('*').map(escapeRegExp).join('.*')
    re = new RegExp(`^${body}$`)
    globs.set(glob, re)
  }
  return re
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
