export type { RetryPolicy } from './_transient.ts'
export { alertMessage, type PubSubAlertOptions, PubSubAlertSink } from './pubsub-alerts.ts'
export { commandMessage, type PubSubCommandOptions, PubSubCommandPublisher } from './pubsub-commands.ts'
export type { PublishMessage, PublishTopic } from './topic.ts'
