/**
 * A fast path for the common case: a plainly valid single reading. It accepts a strict subset of
 * what `TelemetrySchema` accepts and answers `undefined` for anything else, which then goes
 * through the schema for its verdict and its error path. The schema stays the authority; this
 * only spares it the messages it would pass anyway (a differential test holds the two together).
 */
import { validBoot, validDevice } from './known-devices.ts'
import { FIRMWARE_PATTERN, MAX_METRICS, METRIC_NAME_PATTERN, type Reading, WIRE_VERSION } from './wire.ts'

export function fastReading(body: Record<string, unknown>, text?: string): Reading | undefined {
  const { v, deviceId, ts, seq, boot, metrics, fw } = body
  if (v !== WIRE_VERSION) return undefined
  if (typeof deviceId !== 'string') return undefined
  const device = validDevice(deviceId)
  if (device === undefined || !isCount(ts) || !isCount(seq)) return undefined
  let bootId = ''
  if (typeof boot === 'string' && validBoot(device, boot)) bootId = boot
  else if (isCount(boot)) bootId = String(boot)
  else if (boot !== undefined) return undefined
  if (fw !== undefined && (typeof fw !== 'string' || !firmware.valid(fw))) return undefined
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) return undefined
  let count = 0
  let zero = false
  for (const name in metrics) {
    const value = (metrics as Record<string, unknown>)[name]
    if (typeof value !== 'number' || !Number.isFinite(value) || !metricNames.valid(name)) return undefined
    if (value === 0) zero = true
    count++
  }
  if (count < 1 || count > MAX_METRICS) return undefined
  // A zero may have been sent as a number too small for a double (1e-400). PostgreSQL would keep
  // those digits, and then fail to read them back as a double: such metrics are serialized instead.
  const sent = text === undefined || zero ? undefined : sentMetrics(text)
  return new DecodedReading(deviceId, bootId, seq, ts, metrics as Record<string, number>, fw, sent)
}

/**
 * A reading the fast path accepted. It keeps the JSON text of its metrics as the device sent them
 * (when `sentMetrics` could tell them apart), so a store that keeps metrics as JSON writes that
 * text rather than serialize the same numbers again: formatting numbers costs more than parsing them.
 * The text is private, so readings compare, spread and serialize as plain readings do.
 */
class DecodedReading implements Reading {
  readonly #metricsJson: string | undefined
  constructor(
    readonly deviceId: string,
    readonly boot: string,
    readonly seq: number,
    readonly ts: number,
    readonly metrics: Record<string, number>,
    readonly fw: string | undefined,
    metricsJson: string | undefined,
  ) {
    this.#metricsJson = metricsJson
  }

  static metricsJson(reading: Reading): string | undefined {
    return #metricsJson in reading ? reading.#metricsJson : undefined
  }
}

/**
 * A reading's metrics as JSON text: as the device sent them when decoding kept them, else
 * serialized. Both parse to the reading's metrics.
 */
export function metricsJson(reading: Reading): string {
  return DecodedReading.metricsJson(reading) ?? JSON.stringify(reading.metrics)
}

const METRICS = 'metrics'
const QUOTE = 0x22
const COLON = 0x3a
const OPEN = 0x7b

/**
 * The text of the top-level `metrics` object in a payload that parsed to a valid reading, or
 * undefined when the payload is not plain enough to tell it apart with a few searches:
 * - Without a backslash, nothing is escaped: every `"metrics"` in the text is a whole string, and
 *   one followed by `:` is a key.
 * - The first `metrics` in the text must be that key, followed at once by an object. Its metrics
 *   are numbers under plain names, so the first `}` after it closes it.
 * - No `metrics` may follow: the key was neither nested in another field (leaving it needs a `}`)
 *   nor repeated (the last of repeated keys is the one parsed).
 *
 * Searches for a single character or a word starting with `m`, which JSON keys and values rarely
 * hold, are quick; one for `"metrics"` stops at every quote.
 */
export function sentMetrics(text: string): string | undefined {
  const key = text.indexOf(METRICS)
  const start = key + METRICS.length + 2
  if (
    key < 1 ||
    text.charCodeAt(key - 1) !== QUOTE ||
    text.charCodeAt(start - 2) !== QUOTE ||
    text.charCodeAt(start - 1) !== COLON ||
    text.charCodeAt(start) !== OPEN
  ) {
    return undefined
  }
  const end = text.indexOf('}', start) + 1
  if (end === 0 || text.indexOf(METRICS, end) !== -1 || text.indexOf('\\') !== -1) return undefined
  return text.slice(start, end)
}

/**
 * A fleet repeats the same few strings in every message — its firmware versions and a handful of
 * metric names — so each is checked against its pattern once and then found in a set (device and
 * boot ids: see known-devices). The set is bounded: when full, it starts over.
 */
class ValidStrings {
  private readonly seen = new Set<string>()
  constructor(
    private readonly pattern: RegExp,
    private readonly limit: number,
  ) {}

  valid(text: string): boolean {
    if (this.seen.has(text)) return true
    if (!this.pattern.test(text)) return false
    if (this.seen.size >= this.limit) this.seen.clear()
    this.seen.add(text)
    return true
  }
}

const firmware = new ValidStrings(FIRMWARE_PATTERN, 1_000)
const metricNames = new ValidStrings(METRIC_NAME_PATTERN, 10_000)

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0
}
