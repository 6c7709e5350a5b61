/**
 * A fast path for the common case: a plainly valid single reading. It accepts a strict subset of
 * what `TelemetrySchema` accepts and answers `undefined` for anything else, which then goes
 * through the schema for its verdict and its error path. The schema stays the authority; this
 * only spares it the messages it would pass anyway (a differential test holds the two together).
 */
import {
  DEVICE_ID_PATTERN,
  FIRMWARE_PATTERN,
  MAX_METRICS,
  METRIC_NAME_PATTERN,
  type Reading,
  WIRE_VERSION,
} from './wire.ts'

export function fastReading(body: Record<string, unknown>): Reading | undefined {
  const { v, deviceId, ts, seq, boot, metrics, fw } = body
  if (v !== WIRE_VERSION) return undefined
  if (typeof deviceId !== 'string' || !ids.valid(deviceId)) return undefined
  if (!isCount(ts) || !isCount(seq)) return undefined
  let bootId = ''
  if (typeof boot === 'string' && ids.valid(boot)) bootId = boot
  else if (isCount(boot)) bootId = String(boot)
  else if (boot !== undefined) return undefined
  if (fw !== undefined && (typeof fw !== 'string' || !firmware.valid(fw))) return undefined
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) return undefined
  let count = 0
  for (const name in metrics) {
    const value = (metrics as Record<string, unknown>)[name]
    if (typeof value !== 'number' || !Number.isFinite(value) || !metricNames.valid(name)) return undefined
    count++
  }
  if (count < 1 || count > MAX_METRICS) return undefined
  return { deviceId, boot: bootId, seq, ts, metrics: metrics as Record<string, number>, fw }
}

/**
 * A fleet repeats the same few strings in every message — its device ids, boot ids, firmware
 * versions and a handful of metric names — so each is checked against its pattern once and then
 * found in a set. The set is bounded: when full, it starts over.
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

const ids = new ValidStrings(DEVICE_ID_PATTERN, 100_000)
const firmware = new ValidStrings(FIRMWARE_PATTERN, 1_000)
const metricNames = new ValidStrings(METRIC_NAME_PATTERN, 10_000)

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0
}
