export type { RetryPolicy } from './_transient.ts'
export { type DynamoDbStateOptions, DynamoDbStateStore } from './dynamodb-state.ts'
export { type IotCommandOptions, IotCommandPublisher } from './iot-commands.ts'
export {
  EventBridgeTrigger,
  type EventBridgeTriggerOptions,
  executionName,
  StepFunctionsTrigger,
  type StepFunctionsTriggerOptions,
} from './pipeline-triggers.ts'
export { S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store.ts'
export { S3ModelSource, type S3ModelSourceOptions } from './s3-model-source.ts'
export { S3Quarantine, type S3QuarantineOptions } from './s3-quarantine.ts'
export { type SnsAlertOptions, SnsAlertSink } from './sns-alerts.ts'
export { SnsRetrainNotifier, type SnsRetrainNotifierOptions } from './sns-retrain-notifier.ts'
export { type TimestreamStoreOptions, TimestreamTelemetryStore } from './timestream-store.ts'
