/**
 * Fault injection: what a flaky sensor, a brown-out or buggy firmware does to the telemetry a device
 * publishes, drawn per reading from a seeded stream and labelled, so rules can be scored against it.
 */
import {
  ConfigError,
  MAX_FUTURE_MS,
  MAX_PAYLOAD_BYTES,
  parseDuration,
  type TelemetryInput,
} from '@fleetpipe/core'
import { DEVICE_TYPE_INFO, type FaultMetric } from './device-types.ts'
import { Random } from './random.ts'

export const FAULT_KINDS = [
  'spike',
  'stuck',
  'drift',
  'dropout',
  'duplicate',
  'malformed',
  'spoof',
  'skew',
  'oversize',
  'burst',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

/** One `kind:when[@glob][@share%]` part of a fault spec. */
export interface FaultRule {
  kind: FaultKind
  /** Chance per reading that the fault starts on a device the selector matches; 0 when scheduled. */
  probability: number
  /** Device id glob (`*` any run, `?` one character); absent means every device. */
  selector?: string
  /** Of the devices the selector matches, the share (0–1) that gets the fault, chosen by seed. */
  share?: number
  /**
   * Instead of a chance: the fault starts `startMs` into the run on every chosen device, and lasts
   * `durationMs` (every reading in the window is affected) or, without it, the kind's own length.
   */
  schedule?: { startMs: number; durationMs?: number }
}

/**
 * Ground truth for one injected fault. `ts` and `seq` are those of the first affected reading;
 * readings with `startTs <= ts <= endTs` were affected, as for overheat labels.
 */
export interface FaultLabel {
  deviceId: string
  kind: FaultKind
  ts: number
  seq?: number
  startTs: number
  endTs: number
  detail?: Record<string, string | number>
  /** Only overheat episodes end by a cause; declared so a mixed label list reads it without narrowing. */
  endedBy?: undefined
}

/** What the device sends for one reading: none (dropout), one, or two (duplicate); a string is sent as is. */
export type Outgoing = TelemetryInput | string

/** The metric spike, stuck, drift and burst act on, unless told: the one the overheat rules watch. */
const MOTOR_METRIC: FaultMetric = DEVICE_TYPE_INFO.motor.faultMetric
const STUCK_READINGS: readonly [number, number] = [5, 15]
const DRIFT_READINGS: readonly [number, number] = [30, 60]
const DROPOUT_READINGS: readonly [number, number] = [3, 10]
const BURST_READINGS: readonly [number, number] = [10, 30]
/** A clock that jumped ahead (a bad SNTP answer) by more than the pipeline accepts. */
const SKEW_MS = MAX_FUTURE_MS + 5 * 60 * 1000
const SKEW_READINGS: readonly [number, number] = [3, 10]
/** Past the 128 KB every cloud edge refuses, as firmware that dumps a whole log buffer. */
const OVERSIZE_BYTES = MAX_PAYLOAD_BYTES + 1024

/**
 * Parses a fault spec: comma-separated `kind:when[@device-glob][@share%]`, where `when` is a
 * probability per reading (`0.01`) or a schedule from the start of the run (`30s`: once, at 30 s;
 * `30s+20s`: every reading from 30 s to 50 s), and `share%` picks that share of the matching devices.
 * @example parseFaults('spike:0.05@esp32-00*') // [{ kind: 'spike', probability: 0.05, selector: 'esp32-00*' }]
 * @example parseFaults('dropout:10s+30s@25%') // a quarter of the fleet goes quiet from 10 s to 40 s
 */
export function parseFaults(spec: string): FaultRule[] {
  const rules: FaultRule[] = []
  for (const raw of spec.split(',')) {
    const part = raw.trim()
    if (part === '') continue
    const match = /^([^:@]+):([^@]*)((?:@[^@]*){0,2})$/.exec(part)
    if (!match) throw new ConfigError(`fault "${part}": expected kind:probability[@device-glob][@share%]`)
    const [, name = '', when = '', targets = ''] = match
    const kind = name.trim()
    if (!isFaultKind(kind)) {
      throw new ConfigError(
        `fault "${part}": kind "${kind}" is unknown; use one of ${FAULT_KINDS.join(', ')}`,
      )
    }
    const rule: FaultRule = { kind, probability: 0 }
    const schedule = parseSchedule(when.trim())
    if (schedule) rule.schedule = schedule
    else {
      const probability = when.trim() === '' ? Number.NaN : Number(when)
      if (!(probability >= 0 && probability <= 1)) {
        throw new ConfigError(
          `fault "${part}": probability must be a number from 0 to 1, got "${when}" (or a time: 30s, or 30s+20s for a window)`,
        )
      }
      rule.probability = probability
    }
    for (const target of targets.split('@').slice(1)) {
      const text = target.trim()
      if (text === '') throw new ConfigError(`fault "${part}": empty device selector after @`)
      const share = /^(\d+(?:\.\d+)?)%$/.exec(text)
      if (share) {
        const value = Number(share[1]) / 100
        if (!(value > 0 && value <= 1) || rule.share !== undefined) {
          throw new ConfigError(`fault "${part}": one share, above 0 % and at most 100 %`)
        }
        rule.share = value
      } else if (rule.selector !== undefined) {
        throw new ConfigError(`fault "${part}": one device glob at most`)
      } else rule.selector = text
    }
    rules.push(rule)
  }
  return rules
}

function parseSchedule(text: string): FaultRule['schedule'] {
  const match = /^(\d+(?:\.\d+)?(?:ms|s|m|h))(?:\+(\d+(?:\.\d+)?(?:ms|s|m|h)))?$/.exec(text)
  if (!match) return undefined
  const startMs = parseDuration(match[1] as string) as number
  if (match[2] === undefined) return { startMs }
  return { startMs, durationMs: parseDuration(match[2]) as number }
}

/**
 * The devices a rule with a share applies to: exactly round(share × matching) of those its glob
 * matches, drawn by seed (so the same devices every run).
 */
export function chooseShare(deviceIds: readonly string[], rule: FaultRule, seed: number): Set<string> {
  const matching = deviceIds.filter((id) => matchesSelector(id, rule.selector))
  if (rule.share === undefined) return new Set(matching)
  const random = new Random(seed)
  // A seeded Fisher–Yates shuffle, cut at the share.
  const order = [...matching]
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1))
    ;[order[i], order[j]] = [order[j] as string, order[i] as string]
  }
  return new Set(order.slice(0, Math.round(rule.share * matching.length)))
}

export function matchesSelector(deviceId: string, selector: string | undefined): boolean {
  if (selector === undefined) return true
  const pattern = selector
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.')
  return new RegExp(`^${pattern}$`).test(deviceId)
}

/** Labels counted by fault kind; every kind in `kinds` appears, at 0 if never injected. */
export function countFaults(
  labels: readonly { kind: string }[],
  kinds: readonly FaultKind[] = [],
): Partial<Record<FaultKind, number>> {
  const counts: Partial<Record<FaultKind, number>> = {}
  for (const kind of kinds) counts[kind] = 0
  for (const { kind } of labels) if (isFaultKind(kind)) counts[kind] = (counts[kind] ?? 0) + 1
  return counts
}

export interface FaultInjectorOptions {
  deviceId: string
  seed: number
  /** The fleet's device ids, for spoof to borrow one. */
  peers?: readonly string[]
  /** The metric value faults act on (the device type's); temperature by default. */
  metric?: FaultMetric
  /** When the run began (epoch ms), for scheduled faults; by default the first reading's time. */
  start?: number
}

interface Active {
  label: FaultLabel
  remaining: number
  /** stuck: the value repeated; drift: the offset added per reading; burst: the noise's sd. */
  value: number
  readings: number
  /** Readings affected so far. */
  steps: number
  /** A scheduled window's end (epoch ms, exclusive). */
  until?: number
}

/** One device's faults: turns each reading into what the device actually publishes. */
export class FaultInjector {
  readonly deviceId: string
  #rules: FaultRule[]
  #random: Random
  #peers: string[]
  #metric: FaultMetric
  #start: number | undefined
  /** Scheduled rules that have not started yet. */
  #scheduled: FaultRule[]
  #active = new Map<FaultKind, Active>()
  /** As last published, so stuck repeats what the cloud last saw. */
  #last: TelemetryInput['metrics'] | undefined
  #labels: FaultLabel[] = []

  constructor(
    rules: readonly FaultRule[],
    { deviceId, seed, peers = [], metric = MOTOR_METRIC, start }: FaultInjectorOptions,
  ) {
    this.deviceId = deviceId
    // Dropout first: a device that goes quiet at this reading starts no fault nobody will see.
    const mine = rules
      .filter((rule) => matchesSelector(deviceId, rule.selector))
      .sort((a, b) => Number(b.kind === 'dropout') - Number(a.kind === 'dropout'))
    this.#rules = mine.filter((rule) => !rule.schedule)
    this.#scheduled = mine.filter((rule) => rule.schedule)
    this.#random = new Random(seed)
    this.#peers = peers.filter((peer) => peer !== deviceId)
    this.#metric = metric
    this.#start = start
  }

  apply(reading: TelemetryInput): Outgoing[] {
    for (const [kind, active] of this.#active) {
      if (active.until !== undefined && reading.ts >= active.until) this.#active.delete(kind)
    }
    this.#begin(reading)
    if (this.#step('dropout', reading)) return []
    const out: TelemetryInput = { ...reading, metrics: { ...reading.metrics } }
    const name = this.#metric.name
    const metric = out.metrics[name]
    if (metric !== undefined) {
      let value = metric
      const drift = this.#active.get('drift')
      if (drift && this.#step('drift', reading)) value += drift.value * drift.steps
      const stuck = this.#active.get('stuck')
      if (stuck && this.#step('stuck', reading)) value = stuck.value
      const burst = this.#active.get('burst')
      if (burst && this.#step('burst', reading)) value += this.#random.normal(0, burst.value)
      if (this.#step('spike', reading)) value += this.#metric.spikeDelta
      out.metrics[name] = round(value)
    }
    this.#last = out.metrics
    const spoof = this.#active.get('spoof')
    if (spoof && this.#step('spoof', reading)) out.deviceId = String(spoof.label.detail?.as)
    if (this.#step('skew', reading)) out.ts += SKEW_MS
    // Unknown fields are allowed by the wire format, so only the size is wrong.
    const json = this.#step('oversize', reading)
      ? JSON.stringify({ ...out, log: 'x'.repeat(OVERSIZE_BYTES) })
      : JSON.stringify(out)
    // Cut mid-object, as a payload torn by a buffer overrun: never valid JSON.
    const payload: Outgoing = this.#step('malformed', reading)
      ? json.slice(0, Math.floor(json.length / 2))
      : json.length > OVERSIZE_BYTES
        ? json
        : out
    return this.#step('duplicate', reading) ? [payload, payload] : [payload]
  }

  /** Faults injected so far, oldest first; a fault still under way has its `endTs` so far. */
  labels(): FaultLabel[] {
    return this.#labels.map((label) => ({
      ...label,
      ...(label.detail ? { detail: { ...label.detail } } : {}),
    }))
  }

  /**
   * Starts the scheduled faults now due, then draws, in spec order, which faults start at this
   * reading. A device in dropout starts no other.
   */
  #begin(reading: TelemetryInput): void {
    if (this.#scheduled.length > 0) {
      this.#start ??= reading.ts
      const start = this.#start
      this.#scheduled = this.#scheduled.filter((rule) => {
        const { startMs, durationMs } = rule.schedule as NonNullable<FaultRule['schedule']>
        if (reading.ts < start + startMs) return true
        // A window already over when the device first reads (a late joiner) is skipped, not squeezed in.
        const until = durationMs === undefined ? undefined : start + startMs + durationMs
        if (until !== undefined && reading.ts >= until) return false
        this.#active.delete(rule.kind)
        this.#open(rule.kind, reading, until)
        return false
      })
    }
    for (const { kind, probability } of this.#rules) {
      if (this.#active.has('dropout')) return
      if (this.#active.has(kind) || !this.#random.chance(probability)) continue
      this.#open(kind, reading)
    }
  }

  #open(kind: FaultKind, reading: TelemetryInput, until?: number): void {
    const begun = this.#draw(kind, reading, until !== undefined)
    if (!begun) return
    const label: FaultLabel = {
      deviceId: this.deviceId,
      kind,
      ts: reading.ts,
      seq: reading.seq,
      startTs: reading.ts,
      endTs: reading.ts,
      ...(begun.detail ? { detail: begun.detail } : {}),
    }
    this.#labels.push(label)
    this.#active.set(kind, {
      label,
      // A scheduled window ends by time, not by a count of readings.
      remaining: until === undefined ? begun.readings : Number.POSITIVE_INFINITY,
      value: begun.value,
      readings: begun.readings,
      steps: 0,
      ...(until === undefined ? {} : { until }),
    })
  }

  #draw(
    kind: FaultKind,
    reading: TelemetryInput,
    windowed = false,
  ): { readings: number; value: number; detail?: FaultLabel['detail'] } | undefined {
    // In a scheduled window the count is meaningless: every reading until the window's end.
    const span = (range: readonly [number, number]) =>
      windowed ? 0 : range[0] + Math.floor(this.#random.next() * (range[1] - range[0] + 1))
    const { name: metric, spikeDelta, driftPerReading, burstSd } = this.#metric
    const counted = (readings: number): Record<string, number> => (windowed ? {} : { readings })
    switch (kind) {
      case 'spike':
        return { readings: 1, value: spikeDelta, detail: { metric, delta: spikeDelta } }
      case 'stuck': {
        const value = this.#last?.[metric] ?? reading.metrics[metric]
        if (value === undefined) return undefined
        const readings = span(STUCK_READINGS)
        return { readings, value, detail: { metric, value, ...counted(readings) } }
      }
      case 'drift': {
        if (reading.metrics[metric] === undefined) return undefined
        const readings = span(DRIFT_READINGS)
        const detail = { metric, perReading: driftPerReading, ...counted(readings) }
        return { readings, value: driftPerReading, detail }
      }
      case 'burst': {
        if (reading.metrics[metric] === undefined) return undefined
        const readings = span(BURST_READINGS)
        return { readings, value: burstSd, detail: { metric, sd: burstSd, ...counted(readings) } }
      }
      case 'dropout': {
        const readings = span(DROPOUT_READINGS)
        return { readings, value: 0, detail: counted(readings) }
      }
      case 'spoof': {
        const as = this.#peers[Math.floor(this.#random.next() * this.#peers.length)]
        // With no other device to impersonate there is nothing to spoof.
        return as === undefined ? undefined : { readings: 1, value: 0, detail: { as } }
      }
      case 'skew': {
        const readings = span(SKEW_READINGS)
        return { readings, value: SKEW_MS, detail: { offsetMs: SKEW_MS, ...counted(readings) } }
      }
      case 'oversize':
        return { readings: 1, value: 0, detail: { bytes: OVERSIZE_BYTES } }
      case 'duplicate':
      case 'malformed':
        return { readings: 1, value: 0 }
    }
  }

  /** Whether `kind` affects this reading; extends its label to the reading and ends it when spent. */
  #step(kind: FaultKind, reading: TelemetryInput): boolean {
    const active = this.#active.get(kind)
    if (!active) return false
    active.label.endTs = reading.ts
    active.steps++
    if (--active.remaining <= 0) this.#active.delete(kind)
    return true
  }
}

function isFaultKind(kind: string): kind is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(kind)
}

/** To the millivolt or thousandth of a degree: as fine as any sensor model reads. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000
}
