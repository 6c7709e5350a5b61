/**
 * The Pub/Sub envelope, as Eventarc delivers it to a Cloud Run function: a CloudEvent of type
 * `google.cloud.pubsub.topic.v1.messagePublished` whose data is `MessagePublishedData`
 * (https://github.com/googleapis/google-cloudevents/blob/main/proto/google/events/cloud/pubsub/v1/data.proto),
 * and the attributes the MQTT bridge sets on what it forwards. The device's payload inside is parsed
 * by the core, not here.
 */
import * as z from 'zod'

export const MESSAGE_PUBLISHED = 'google.cloud.pubsub.topic.v1.messagePublished'

/**
 * What the MQTT bridge that forwards device publishes to Pub/Sub sets on each message (GCP has had
 * no IoT Core since 2023-08-16: devices reach Pub/Sub through a broker bridge).
 */
export const BRIDGE_ATTRIBUTES = {
  /** The MQTT topic, `fleet/{deviceId}/telemetry` or `fleet/{deviceId}/status`. */
  mqttTopic: 'mqttTopic',
  /**
   * The device the broker authenticated: the core holds the payload's deviceId to it, so a device
   * publishing as another is quarantined (`device_mismatch`). Without `mqttTopic`, the message is
   * taken as that device's telemetry.
   */
  deviceId: 'deviceId',
  /** The MQTT 5 content type when the device set one; only JSON is understood today. */
  contentType: 'contentType',
} as const

/** https://cloud.google.com/pubsub/docs/reference/rest/v1/PubsubMessage */
export const PubsubMessageSchema = z.object({
  /** The payload, base64; absent for a message that has attributes only. */
  data: z.base64().optional(),
  attributes: z.record(z.string(), z.string()).optional(),
  messageId: z.string().min(1),
  /** RFC 3339, set by the Pub/Sub server. */
  publishTime: z.iso.datetime({ offset: true }),
})

export const MessagePublishedDataSchema = z.object({
  message: PubsubMessageSchema,
  /** Set by push delivery; absent when the framework converted a raw push body itself. */
  subscription: z.string().optional(),
})

/** Only the parts of the CloudEvent we read; the framework has checked the rest. */
export const MessagePublishedEventSchema = z.object({
  type: z.literal(MESSAGE_PUBLISHED),
  data: MessagePublishedDataSchema,
})

export type PubsubMessage = z.infer<typeof PubsubMessageSchema>
export type MessagePublishedData = z.infer<typeof MessagePublishedDataSchema>
