/**
 * Translation from a Pub/Sub CloudEvent to the core's `InboundMessage`. Nothing is dropped and
 * nothing throws: an event that is not a message from the MQTT bridge becomes a message on no
 * topic carrying the whole event as its payload, which the core quarantines (`unknown_topic`)
 * with the raw kept.
 */
import { type InboundMessage, topics } from '@fleetpipe/core'
import type * as z from 'zod'
import { BRIDGE_ATTRIBUTES, MessagePublishedEventSchema } from './message-published.ts'

const SOURCE = 'gcp-pubsub'

export interface Translated {
  message: InboundMessage
  /** The Pub/Sub message id, when there is one, for log lines. */
  messageId?: string
  /** Why the event was not a message from the bridge: where (field path) and what. */
  problem?: { path: string; issue: string }
}

export function fromCloudEvent(event: unknown, now: number): Translated {
  const parsed = MessagePublishedEventSchema.safeParse(event)
  if (!parsed.success) {
    return { message: foreign(event, eventTime(event) ?? now), problem: firstIssue(parsed.error) }
  }
  const { messageId, publishTime, data = '', attributes = {} } = parsed.data.data.message
  const receivedAt = Date.parse(publishTime)
  const deviceId = attributes[BRIDGE_ATTRIBUTES.deviceId] || undefined
  const topic = attributes[BRIDGE_ATTRIBUTES.mqttTopic] || (deviceId && topics.telemetry(deviceId))
  if (!topic) {
    return {
      message: foreign(event, receivedAt),
      messageId,
      problem: {
        path: 'data.message.attributes',
        issue: `neither ${BRIDGE_ATTRIBUTES.mqttTopic} nor ${BRIDGE_ATTRIBUTES.deviceId} is set: not a message from the MQTT bridge`,
      },
    }
  }
  const message: InboundMessage = { topic, payload: Buffer.from(data, 'base64'), receivedAt, source: SOURCE }
  if (deviceId) message.transportDeviceId = deviceId
  return { message, messageId }
}

function foreign(event: unknown, receivedAt: number): InboundMessage {
  return { topic: '', payload: raw(event), receivedAt, source: SOURCE }
}

/**
 * The event as it came, for replay: a body the framework could not parse reaches us as a string
 * or bytes; bytes inside an event are kept as base64 rather than `{"type":"Buffer",...}`.
 */
function raw(event: unknown): string | Uint8Array {
  if (typeof event === 'string' || event instanceof Uint8Array) return event
  const text = JSON.stringify(event, (_key, value) =>
    isSerialisedBuffer(value) ? Buffer.from(value.data).toString('base64') : value,
  )
  return text ?? String(event)
}

function isSerialisedBuffer(value: unknown): value is { type: 'Buffer'; data: number[] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  )
}

function eventTime(event: unknown): number | undefined {
  const time = typeof event === 'object' && event !== null ? (event as { time?: unknown }).time : undefined
  const ms = typeof time === 'string' ? Date.parse(time) : Number.NaN
  return Number.isFinite(ms) ? ms : undefined
}

function firstIssue(error: z.ZodError): { path: string; issue: string } {
  const issue = error.issues[0]
  return { path: issue?.path.map(String).join('.') ?? '', issue: issue?.message ?? 'not a Pub/Sub event' }
}
