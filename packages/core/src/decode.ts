/**
 * Decoding: one inbound message (topic + bytes + transport metadata) becomes records — valid
 * readings, a status update, or quarantine entries with a machine-readable reason and field path.
 * Nothing here throws on bad input.
 */

import type * as z from 'zod/mini'
import { fastReading } from './_fast-path.ts'
import type { StatusUpdate } from './ports.ts'
import { boundedRaw, type QuarantineEntry, type QuarantineReason } from './quarantine.ts'
import {
  BatchedReadingSchema,
  MAX_FUTURE_MS,
  MAX_PAYLOAD_BYTES,
  parseTopic,
  type Reading,
  StatusSchema,
  TelemetryBatchSchema,
  TelemetrySchema,
  WIRE_VERSION,
} from './wire.ts'

export interface InboundMessage {
  topic: string
  payload: Uint8Array | string
  /** When the transport received the message, epoch ms. */
  receivedAt: number
  /** The device the transport authenticated (IoT Hub connection id, client id), when it knows. */
  transportDeviceId?: string
  /** `mqtt`, `aws-iot`, `azure-iothub`, `gcp-pubsub`, `replay`, ... */
  source: string
}

export type DecodedRecord =
  | { kind: 'reading'; reading: Reading }
  | { kind: 'status'; status: StatusUpdate }
  | { kind: 'quarantined'; entry: QuarantineEntry }

export interface DecodeOptions {
  now: number
  /** Readings older than this are out of range. */
  maxAgeMs: number
}

const utf8 = new TextDecoder('utf-8', { fatal: false })

export function decode(message: InboundMessage, options: DecodeOptions): DecodedRecord[] {
  const decoded = decodeMessage(message, options)
  return Array.isArray(decoded) ? decoded : [{ kind: 'reading', reading: decoded }]
}

/**
 * `decode` as ingest calls it: the common case — one valid reading — comes back as the Reading
 * itself, anything else as its records. Spares the hot path an array and a record per message.
 */
export function decodeMessage(message: InboundMessage, options: DecodeOptions): Reading | DecodedRecord[] {
  const bytes = typeof message.payload === 'string' ? Buffer.from(message.payload) : message.payload
  const route = parseTopic(message.topic)
  if (!route || route.channel === 'commands') {
    return refuse(
      message,
      bytes,
      'unknown_topic',
      '',
      `topic ${message.topic} is not fleet/{deviceId}/telemetry or /status`,
    )
  }
  if (bytes.byteLength > MAX_PAYLOAD_BYTES) {
    return refuse(
      message,
      bytes,
      'payload_too_large',
      '',
      `payload is ${bytes.byteLength} bytes, the limit is ${MAX_PAYLOAD_BYTES}`,
      route.deviceId,
    )
  }

  let body: unknown
  const text = typeof message.payload === 'string' ? message.payload : utf8.decode(bytes)
  try {
    body = JSON.parse(text)
  } catch (error) {
    return refuse(
      message,
      bytes,
      'invalid_json',
      '',
      `payload is not JSON: ${(error as Error).message}`,
      route.deviceId,
    )
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return refuse(message, bytes, 'schema', '', 'payload must be a JSON object', route.deviceId)
  }
  const v = (body as { v?: unknown }).v
  if (typeof v === 'number' && v !== WIRE_VERSION) {
    return refuse(
      message,
      bytes,
      'unsupported_version',
      'v',
      `wire version ${v} is not supported (expected ${WIRE_VERSION})`,
    )
  }

  const claimed = (body as { deviceId?: unknown }).deviceId
  const authority = message.transportDeviceId ?? route.deviceId
  if (typeof claimed === 'string' && (claimed !== route.deviceId || claimed !== authority)) {
    return refuse(
      message,
      bytes,
      'device_mismatch',
      'deviceId',
      `payload deviceId ${claimed} does not match the sending device ${authority} (topic ${message.topic})`,
      authority,
    )
  }

  if (route.channel === 'status') {
    const parsed = StatusSchema.safeParse(body)
    if (!parsed.success) return refuse(message, bytes, 'schema', ...firstIssue(parsed.error), route.deviceId)
    return [{ kind: 'status', status: { ...parsed.data, receivedAt: message.receivedAt } }]
  }

  if ('readings' in body) return decodeBatch(message, bytes, body, options)

  let reading = fastReading(body as Record<string, unknown>, text)
  if (!reading) {
    const parsed = TelemetrySchema.safeParse(body)
    if (!parsed.success) return refuse(message, bytes, 'schema', ...firstIssue(parsed.error), route.deviceId)
    const { deviceId, ts, seq, boot = '', metrics, fw } = parsed.data
    reading = { deviceId, boot, seq, ts, metrics, fw }
  }
  const outOfRange = checkTimestamp(reading.ts, options)
  if (outOfRange) return refuse(message, bytes, 'timestamp_out_of_range', 'ts', outOfRange, reading.deviceId)
  return reading
}

/** The batched form: the envelope must be valid; each reading stands or falls on its own. */
function decodeBatch(
  message: InboundMessage,
  bytes: Uint8Array,
  body: object,
  options: DecodeOptions,
): DecodedRecord[] {
  const envelope = TelemetryBatchSchema.safeParse(body)
  if (!envelope.success) {
    const [path, text] = firstIssue(envelope.error)
    return [quarantined(message, bytes, { reason: 'schema', path, message: text })]
  }
  const { deviceId, boot = '', fw, readings } = envelope.data
  return readings.map((item, i): DecodedRecord => {
    // A refused reading is kept as a single-reading message, so replaying it touches nothing else.
    const single = () =>
      Buffer.from(
        JSON.stringify({ v: WIRE_VERSION, deviceId, boot: boot || undefined, fw, ...(item as object) }),
      )
    const parsed = BatchedReadingSchema.safeParse(item)
    if (!parsed.success) {
      const [path, text] = firstIssue(parsed.error)
      return quarantined(message, single(), {
        reason: 'schema',
        path: joinPath(`readings.${i}`, path),
        message: `readings.${i}: ${text}`,
        deviceId,
      })
    }
    const { ts, seq, metrics } = parsed.data
    const outOfRange = checkTimestamp(ts, options)
    if (outOfRange) {
      return quarantined(message, single(), {
        reason: 'timestamp_out_of_range',
        path: `readings.${i}.ts`,
        message: outOfRange,
        deviceId,
      })
    }
    return { kind: 'reading', reading: { deviceId, boot, seq, ts, metrics, fw } }
  })
}

function refuse(
  message: InboundMessage,
  bytes: Uint8Array,
  reason: QuarantineReason,
  path: string,
  text: string,
  deviceId?: string,
): DecodedRecord[] {
  return [quarantined(message, bytes, { reason, path, message: text, deviceId })]
}

function checkTimestamp(ts: number, { now, maxAgeMs }: DecodeOptions): string | undefined {
  if (ts > now + MAX_FUTURE_MS) {
    return `ts ${new Date(ts).toISOString()} is more than 15 minutes in the future`
  }
  if (ts < now - maxAgeMs) {
    return `ts ${new Date(ts).toISOString()} is older than the ${Math.round(maxAgeMs / 3_600_000)} h horizon`
  }
  return undefined
}

function firstIssue(error: z.core.$ZodError): [path: string, message: string] {
  const issue = error.issues[0]
  if (!issue) return ['', 'invalid payload']
  const path = issue.path.map(String).join('.')
  // A bad record key reports "Invalid key in record"; the key schema's own message says more.
  const text = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message
  return [path, path ? `${path}: ${text}` : text]
}

function joinPath(prefix: string, path: string): string {
  return path ? `${prefix}.${path}` : prefix
}

function quarantined(
  message: InboundMessage,
  bytes: Uint8Array,
  detail: { reason: QuarantineReason; path: string; message: string; deviceId?: string },
): DecodedRecord {
  return {
    kind: 'quarantined',
    entry: {
      ...detail,
      deviceId: detail.deviceId ?? parseTopic(message.topic)?.deviceId,
      topic: message.topic,
      receivedAt: message.receivedAt,
      source: message.source,
      ...boundedRaw(bytes),
    },
  }
}
