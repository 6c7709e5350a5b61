/**
 * Fault injection: what a flaky sensor, a brown-out or buggy firmware does to the telemetry a device
 * publishes, drawn per reading from a seeded stream and labelled, so rules can be scored against it.
 */
import { ConfigError, MAX_FUTURE_MS, MAX_PAYLOAD_BYTES, type TelemetryInput } from '@fleetpipe/core'
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
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

/** Named in issue 6 but not simulated yet: the parser says so rather than calling them unknown. */
const PLANNED_KINDS = ['burst']

/** One `kind:probability[@glob]` part of a fault spec. */
export interface FaultRule {
  kind: FaultKind
  /** Chance per reading that the fault starts on a device the selector matches. */
  probability: number
  /** Device id glob (`*` any run, `?` one character); absent means every device. */
  selector?: string
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

/** The metric spike, stuck and drift act on: the one the overheat rules watch. */
const METRIC = 'temperature'
const SPIKE_DELTA = 40
const DRIFT_PER_READING = 0.5
const STUCK_READINGS: readonly [number, number] = [5, 15]
const DRIFT_READINGS: readonly [number, number] = [30, 60]
const DROPOUT_READINGS: readonly [number, number] = [3, 10]
/** A clock that jumped ahead (a bad SNTP answer) by more than the pipeline accepts. */
const SKEW_MS = MAX_FUTURE_MS + 5 * 60 * 1000
const SKEW_READINGS: readonly [number, number] = [3, 10]
/** Past the 128 KB every cloud edge refuses, as firmware that dumps a whole log buffer. */
const OVERSIZE_BYTES = MAX_PAYLOAD_BYTES + 1024

/**
 * Parses a fault spec such as `spike:0.01,dropout:0.001@esp32-00*`.
 * @example parseFaults('spike:0.05@esp32-00*') // [{ kind: 'spike', probability: 0.05, selector: 'esp32-00*' }]
 */
export function parseFaults(spec: string): FaultRule[] {
  const rules: FaultRule[] = []
  for (const raw of spec.split(',')) {
    const part = raw.trim()
    if (part === '') continue
    const match = /^([^:@]+):([^@]*)(?:@(.*))?$/.exec(part)
    if (!match) throw new ConfigError(`fault "${part}": expected kind:probability[@device-glob]`)
    const [, name = '', chance = '', selector] = match
    const kind = name.trim()
    if (!isFaultKind(kind)) {
      const why = PLANNED_KINDS.includes(kind) ? 'is not simulated yet' : 'is unknown'
      throw new ConfigError(`fault "${part}": kind "${kind}" ${why}; use one of ${FAULT_KINDS.join(', ')}`)
    }
    const probability = chance.trim() === '' ? Number.NaN : Number(chance)
    if (!(probability >= 0 && probability <= 1)) {
      throw new ConfigError(`fault "${part}": probability must be a number from 0 to 1, got "${chance}"`)
    }
    if (selector !== undefined && selector.trim() === '') {
      throw new ConfigError(`fault "${part}": empty device selector after @`)
    }
    rules.push({ kind, probability, ...(selector === undefined ? {} : { selector: selector.trim() }) })
  }
  return rules
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
}

interface Active {
  label: FaultLabel
  remaining: number
  /** stuck: the value repeated; drift: the offset added per reading. */
  value: number
  readings: number
}

/** One device's faults: turns each reading into what the device actually publishes. */
export class FaultInjector {
  readonly deviceId: string
  #rules: FaultRule[]
  #random: Random
  #peers: string[]
  #active = new Map<FaultKind, Active>()
  /** As last published, so stuck repeats what the cloud last saw. */
  #last: TelemetryInput['metrics'] | undefined
  #labels: FaultLabel[] = []

  constructor(rules: readonly FaultRule[], { deviceId, seed, peers = [] }: FaultInjectorOptions) {
    this.deviceId = deviceId
    // Dropout first: a device that goes quiet at this reading starts no fault nobody will see.
    this.#rules = rules
      .filter((rule) => matchesSelector(deviceId, rule.selector))
      .sort((a, b) => Number(b.kind === 'dropout') - Number(a.kind === 'dropout'))
    this.#random = new Random(seed)
    this.#peers = peers.filter((peer) => peer !== deviceId)
  }

  apply(reading: TelemetryInput): Outgoing[] {
    this.#start(reading)
    if (this.#step('dropout', reading)) return []
    const out: TelemetryInput = { ...reading, metrics: { ...reading.metrics } }
    const metric = out.metrics[METRIC]
    if (metric !== undefined) {
      let value = metric
      const drift = this.#active.get('drift')
      if (drift && this.#step('drift', reading)) value += drift.value * (drift.readings - drift.remaining)
      const stuck = this.#active.get('stuck')
      if (stuck && this.#step('stuck', reading)) value = stuck.value
      if (this.#step('spike', reading)) value += SPIKE_DELTA
      out.metrics[METRIC] = round(value)
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

  /** Draws, in spec order, which faults start at this reading. A device in dropout starts no other. */
  #start(reading: TelemetryInput): void {
    for (const { kind, probability } of this.#rules) {
      if (this.#active.has('dropout')) return
      if (this.#active.has(kind) || !this.#random.chance(probability)) continue
      const begun = this.#begin(kind, reading)
      if (!begun) continue
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
        remaining: begun.readings,
        value: begun.value,
        readings: begun.readings,
      })
    }
  }

  #begin(
    kind: FaultKind,
    reading: TelemetryInput,
  ): { readings: number; value: number; detail?: FaultLabel['detail'] } | undefined {
    const span = (range: readonly [number, number]) =>
      range[0] + Math.floor(this.#random.next() * (range[1] - range[0] + 1))
    switch (kind) {
      case 'spike':
        return { readings: 1, value: SPIKE_DELTA, detail: { metric: METRIC, delta: SPIKE_DELTA } }
      case 'stuck': {
        const value = this.#last?.[METRIC] ?? reading.metrics[METRIC]
        if (value === undefined) return undefined
        const readings = span(STUCK_READINGS)
        return { readings, value, detail: { metric: METRIC, value, readings } }
      }
      case 'drift': {
        const readings = span(DRIFT_READINGS)
        const detail = { metric: METRIC, perReading: DRIFT_PER_READING, readings }
        return { readings, value: DRIFT_PER_READING, detail }
      }
      case 'dropout': {
        const readings = span(DROPOUT_READINGS)
        return { readings, value: 0, detail: { readings } }
      }
      case 'spoof': {
        const as = this.#peers[Math.floor(this.#random.next() * this.#peers.length)]
        // With no other device to impersonate there is nothing to spoof.
        return as === undefined ? undefined : { readings: 1, value: 0, detail: { as } }
      }
      case 'skew': {
        const readings = span(SKEW_READINGS)
        return { readings, value: SKEW_MS, detail: { offsetMs: SKEW_MS, readings } }
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
    if (--active.remaining <= 0) this.#active.delete(kind)
    return true
  }
}

function isFaultKind(kind: string): kind is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(kind)
}

function round(value: number): number {
  return Math.round(value * 100) / 100
}
