export type { RetryPolicy } from './_transient.ts'
export {
  type AlertCloudEvent,
  alertEvent,
  type CloudEventSender,
  type EventGridAlertOptions,
  EventGridAlertSink,
} from './event-grid-alerts.ts'
export {
  type CloudToDeviceSender,
  commandMessage,
  type IotHubCommandOptions,
  IotHubCommandPublisher,
} from './iothub-commands.ts'
