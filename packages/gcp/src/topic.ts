/**
 * What the adapters need of a Pub/Sub topic. `Topic` from `@google-cloud/pubsub` fits as it is
 * (`pubsub.topic(name)`); tests pass a recording fake.
 */
export interface PublishTopic {
  /** Resolves to the message id once the server has the message. */
  publishMessage(message: PublishMessage): Promise<string>
}

/** The `MessageOptions` subset we send: raw bytes and string attributes, for subscription filters. */
export interface PublishMessage {
  data: Buffer
  attributes: Record<string, string>
}
