/**
 * Wire format v1: the topics and payloads that devices and every cloud edge agree on.
 * The zod schemas here are the single source of truth for fleetpipe's message types.
 */
import * as z from 'zod/mini'
import './_zod-messages.ts'

export const WIRE_VERSION = 1
/** AWS IoT Core refuses larger publishes, so no device can rely on more. */
export const MAX_PAYLOAD_BYTES = 128 * 1024
export const MAX_FUTURE_MS = 15 * 60 * 1000
export const DEFAULT_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000
export const MAX_METRICS = 64
export const MAX_BATCH_READINGS = 500

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/
export const METRIC_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/

export type Channel = 'telemetry' | 'status' | 'commands'

export const topics = {
  telemetry: (deviceId: string) => `fleet/${deviceId}/telemetry`,
  status: (deviceId: string) => `fleet/${deviceId}/status`,
  commands: (deviceId: string) => `fleet/${deviceId}/commands`,
  /** Subscriptions a bridge needs to feed ingest. */
  inbound: ['fleet/+/telemetry', 'fleet/+/status'] as const,
}

/** Splits `fleet/{deviceId}/{channel}`; undefined for any other topic. */
export function parseTopic(topic: string): { deviceId: string; channel: Channel } | undefined {
  // On the hot path: no split, no array per message.
  if (!topic.startsWith('fleet/')) return undefined
  const slash = topic.indexOf('/', 6)
  if (slash < 0) return undefined
  const rest = topic.length - slash - 1
  let channel: Channel
  if (rest === 9 && topic.endsWith('telemetry')) channel = 'telemetry'
  else if (rest === 6 && topic.endsWith('status')) channel = 'status'
  else if (rest === 8 && topic.endsWith('commands')) channel = 'commands'
  else return undefined
  return { deviceId: topic.slice(6, slash), channel }
}

const DeviceId = z.string().check(z.regex(DEVICE_ID_PATTERN, 'must be 1-64 characters of [A-Za-z0-9._:-]'))

/** A boot id tells a device's restarts apart; firmware may send a counter or a random token. */
const BootId = z.pipe(
  z.union([DeviceId, z.int().check(z.minimum(0))]),
  z.transform((boot) => String(boot)),
)

const Metrics = z
  .record(
    z.string().check(z.regex(METRIC_NAME_PATTERN, 'metric names are [a-z][a-z0-9_]{0,63}')),
    z.number({ error: 'must be a finite number' }),
  )
  .check(
    z.refine((m) => {
      const n = Object.keys(m).length
      return n >= 1 && n <= MAX_METRICS
    }, `must hold 1 to ${MAX_METRICS} metrics`),
  )

const EpochMs = z.int().check(z.minimum(0))
const Seq = z.int().check(z.minimum(0))
/** Printable ASCII: firmware versions end up in text columns and log lines. */
export const FIRMWARE_PATTERN = /^[\x20-\x7e]{1,32}$/
const Firmware = z.string().check(z.regex(FIRMWARE_PATTERN, 'must be 1-32 printable ASCII characters'))

/** One reading as sent in a single message. Unknown fields are ignored so v1 can grow compatibly. */
export const TelemetrySchema = z.object({
  v: z.literal(WIRE_VERSION),
  deviceId: DeviceId,
  ts: EpochMs,
  seq: Seq,
  boot: z.optional(BootId),
  metrics: Metrics,
  fw: z.optional(Firmware),
})

/** Several readings in one message, as battery firmware sends after waking. */
export const TelemetryBatchSchema = z.object({
  v: z.literal(WIRE_VERSION),
  deviceId: DeviceId,
  boot: z.optional(BootId),
  fw: z.optional(Firmware),
  readings: z.array(z.unknown()).check(z.minLength(1), z.maxLength(MAX_BATCH_READINGS)),
})

/** A reading inside a batch: device, boot and firmware come from the envelope. */
export const BatchedReadingSchema = z.object({ ts: EpochMs, seq: Seq, metrics: Metrics })

/** Birth message (`online`) and last will (`offline`) on `fleet/{deviceId}/status`. */
export const StatusSchema = z.object({
  v: z.literal(WIRE_VERSION),
  deviceId: DeviceId,
  state: z.enum(['online', 'offline']),
  ts: z.optional(EpochMs),
  boot: z.optional(BootId),
  fw: z.optional(Firmware),
})

export type Telemetry = z.infer<typeof TelemetrySchema>
export type TelemetryBatch = z.infer<typeof TelemetryBatchSchema>
export type Status = z.infer<typeof StatusSchema>
export type TelemetryInput = z.input<typeof TelemetrySchema>
export type StatusInput = z.input<typeof StatusSchema>

/** A validated reading, normalised: every reading carries its device, boot and firmware. */
export interface Reading {
  deviceId: string
  /** Empty when the device sends no boot id. */
  boot: string
  seq: number
  ts: number
  metrics: Record<string, number>
  fw?: string
}

/** What identifies a reading for dedupe: a redelivery repeats all four, a reboot changes boot or ts. */
export function readingKey(r: Pick<Reading, 'deviceId' | 'boot' | 'seq' | 'ts'>): string {
  return `${r.deviceId}\u0000${r.boot}\u0000${r.seq}\u0000${r.ts}`
}
