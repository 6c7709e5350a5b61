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
  if (typeof deviceId !== 'string' || !DEVICE_ID_PATTERN.test(deviceId)) return undefined
  if (!isCount(ts) || !isCount(seq)) return undefined
  let bootId = ''
  if (typeof boot === 'string' && DEVICE_ID_PATTERN.test(boot)) bootId = boot
  else if (isCount(boot)) bootId = String(boot)
  else if (boot !== undefined) return undefined
  if (fw !== undefined && (typeof fw !== 'string' || !FIRMWARE_PATTERN.test(fw))) return undefined
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) return undefined
  let count = 0
  for (const name in metrics) {
    const value = (metrics as Record<string, unknown>)[name]
    if (typeof value !== 'number' || !Number.isFinite(value) || !METRIC_NAME_PATTERN.test(name))
      return undefined
    count++
  }
  if (count < 1 || count > MAX_METRICS) return undefined
  return { deviceId, boot: bootId, seq, ts, metrics: metrics as Record<string, number>, fw }
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0
}
