export { WebhookRejectedError } from './errors.ts'
export { DEFAULT_TOLERANCE_SEC, SIGNATURE_HEADER, sign, verifySignature } from './signature.ts'
export {
  ALERT_ID_HEADER,
  EVENT_ID_HEADER,
  type WebhookAlertOptions,
  WebhookAlertSink,
} from './webhook-alerts.ts'
