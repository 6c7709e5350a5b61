/**
 * What GCP would hand the ingest function for an MQTT publish that the bridge forwarded to Pub/Sub:
 * the Pub/Sub message (with the bridge's attributes), the `messagePublished` CloudEvent Eventarc
 * makes of it, and that event as an HTTP request in either content mode. Pure functions, for
 * running the GCP handler locally and for conformance tests across clouds.
 *
 * The bridge forwards what it subscribes to (`topics.inbound`: telemetry and status); these
 * functions build a message for any topic, as a misconfigured bridge would.
 */
import { createHash } from 'node:crypto'
import { BRIDGE_ATTRIBUTES, MESSAGE_PUBLISHED, type MessagePublishedData } from './message-published.ts'

export interface Publish {
  topic: string
  payload: Uint8Array | string
  /** The client id the broker authenticated, when the bridge knows it. */
  clientId?: string
  receivedAt: number
}

export interface EmulateOptions {
  /** The GCP project. */
  project?: string
  /** The Pub/Sub topic the bridge publishes to. */
  pubsubTopic?: string
  /** The push subscription Eventarc created for the trigger. */
  subscription?: string
  /** Pub/Sub's id for the message; by default derived from the publish, so the same publish gets the same id. */
  messageId?: string
}

/** A Pub/Sub message as push delivery carries it: the id and time in both spellings. */
export interface PushedMessage {
  data: string
  attributes: Record<string, string>
  messageId: string
  message_id: string
  publishTime: string
  publish_time: string
}

/** The structured form of the event; `data` is `MessagePublishedData`. A type, not an interface, so it is a `CloudEvent`. */
export type MessagePublishedEvent = {
  specversion: '1.0'
  id: string
  source: string
  type: typeof MESSAGE_PUBLISHED
  time: string
  datacontenttype: 'application/json'
  data: MessagePublishedData & { message: PushedMessage; subscription: string }
}

/** An HTTP request as the framework receives it. */
export interface CloudEventRequest {
  headers: Record<string, string>
  body: string
}

const DEFAULTS = { project: 'fleetpipe-local', pubsubTopic: 'fleetpipe-telemetry' }

/** The message the bridge publishes for one MQTT publish, as Pub/Sub then pushes it. */
export function pubSubMessageOf(publish: Publish, options: EmulateOptions = {}): PushedMessage {
  const attributes: Record<string, string> = { [BRIDGE_ATTRIBUTES.mqttTopic]: publish.topic }
  if (publish.clientId !== undefined) attributes[BRIDGE_ATTRIBUTES.deviceId] = publish.clientId
  const messageId = options.messageId ?? messageIdOf(publish)
  const publishTime = new Date(publish.receivedAt).toISOString()
  return {
    data: Buffer.from(publish.payload).toString('base64'),
    attributes,
    messageId,
    message_id: messageId,
    publishTime,
    publish_time: publishTime,
  }
}

/**
 * The `google.cloud.pubsub.topic.v1.messagePublished` CloudEvent Eventarc delivers for it.
 * https://cloud.google.com/eventarc/docs/cloudevents#pubsub
 */
export function cloudEventOf(publish: Publish, options: EmulateOptions = {}): MessagePublishedEvent {
  const project = options.project ?? DEFAULTS.project
  const pubsubTopic = options.pubsubTopic ?? DEFAULTS.pubsubTopic
  const message = pubSubMessageOf(publish, options)
  return {
    specversion: '1.0',
    id: message.messageId,
    source: `//pubsub.googleapis.com/projects/${project}/topics/${pubsubTopic}`,
    type: MESSAGE_PUBLISHED,
    time: message.publishTime,
    datacontenttype: 'application/json',
    data: {
      message,
      subscription: options.subscription ?? `projects/${project}/subscriptions/${pubsubTopic}-ingest`,
    },
  }
}

/** Any CloudEvent in its structured form, e.g. one from another source the trigger was pointed at. */
export interface AnyCloudEvent {
  specversion: string
  id: string
  source: string
  type: string
  datacontenttype?: string
  data?: unknown
  [attribute: string]: unknown
}

/**
 * Binary content mode, as Eventarc sends to Cloud Run: each attribute as a `ce-*` header, the
 * data as the body, `datacontenttype` as the content type.
 * https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md#31-binary-content-mode
 */
export function binaryRequestOf(event: AnyCloudEvent): CloudEventRequest {
  const { data, datacontenttype = 'application/json', ...attributes } = event
  const headers: Record<string, string> = { 'content-type': datacontenttype }
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) headers[`ce-${name.toLowerCase()}`] = String(value)
  }
  return { headers, body: typeof data === 'string' ? data : JSON.stringify(data ?? null) }
}

/**
 * Structured content mode: the whole event as the body.
 * https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md#32-structured-content-mode
 */
export function structuredRequestOf(event: AnyCloudEvent): CloudEventRequest {
  return {
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(event),
  }
}

/** Pub/Sub's ids are decimal numbers of about 16 digits; this one is a hash of the publish. */
function messageIdOf(publish: Publish): string {
  const hash = createHash('sha256')
    .update(`${publish.topic}\u0000${publish.clientId ?? ''}\u0000${publish.receivedAt}\u0000`)
    .update(publish.payload)
    .digest('hex')
  return BigInt(`0x${hash.slice(0, 13)}`).toString()
}
