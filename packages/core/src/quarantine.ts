/** Quarantine: what was refused, why, and enough of the original to replay it. */
import { MAX_PAYLOAD_BYTES } from './wire.ts'

export const QUARANTINE_REASONS = [
  'invalid_json',
  'schema',
  'unsupported_version',
  'device_mismatch',
  'timestamp_out_of_range',
  'payload_too_large',
  'unknown_topic',
  'rejected_by_store',
  /**
   * Not refused: a message whose transient failure outlasted its retries, on a transport that
   * cannot redeliver (an Event Hub checkpoint moves on regardless). Kept here, as a dead letter,
   * for replay once the cause is fixed.
   */
  'retries_exhausted',
] as const
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number]

export interface QuarantineEntry {
  reason: QuarantineReason
  /** Field path of the first problem, e.g. `readings.3.metrics.temperature`; empty for the whole message. */
  path: string
  message: string
  topic: string
  deviceId?: string
  receivedAt: number
  /** The original payload as text (UTF-8, or base64 when `rawEncoding` says so), bounded. */
  raw: string
  rawEncoding: 'utf8' | 'base64'
  rawTruncated: boolean
  /** Where the message came from (`mqtt`, `aws-iot`, ...), for replay and for counts. */
  source: string
}

/** Keeps the whole payload up to the wire limit, so any refused message that fit can be replayed. */
export const MAX_RAW_BYTES = MAX_PAYLOAD_BYTES

export function boundedRaw(
  payload: Uint8Array,
): Pick<QuarantineEntry, 'raw' | 'rawEncoding' | 'rawTruncated'> {
  const bytes = payload.byteLength > MAX_RAW_BYTES ? payload.subarray(0, MAX_RAW_BYTES) : payload
  const rawTruncated = bytes !== payload
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const utf8 = text.toString('utf8')
  // A lossless round trip means the bytes were valid UTF-8 and can be stored as text.
  if (!rawTruncated && Buffer.byteLength(utf8) === bytes.byteLength && !utf8.includes('\uFFFD')) {
    return { raw: utf8, rawEncoding: 'utf8', rawTruncated }
  }
  return { raw: text.toString('base64'), rawEncoding: 'base64', rawTruncated }
}

export function rawBytes(entry: Pick<QuarantineEntry, 'raw' | 'rawEncoding'>): Uint8Array {
  return Buffer.from(entry.raw, entry.rawEncoding)
}
