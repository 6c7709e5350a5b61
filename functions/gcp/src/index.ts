/**
 * fleetpipe's GCP Cloud Run function. Importing this module registers `ingest` with the
 * functions-framework (`--target=ingest --signature-type=cloudevent`); the handler is wired from
 * the environment on the first event, so importing needs no environment. Tests use the factories.
 */
import { depsFromEnv } from './deps.ts'
import { createPubSubHandler, type PubSubHandler } from './pubsub.ts'
import { FUNCTION_NAME, registerIngest } from './register.ts'

export { EnvSchema, type GcpConfig, loadConfig } from './config.ts'
export { type Clients, depsFromEnv, type Wiring } from './deps.ts'
export {
  type AnyCloudEvent,
  binaryRequestOf,
  type CloudEventRequest,
  cloudEventOf,
  type EmulateOptions,
  type MessagePublishedEvent,
  type Publish,
  type PushedMessage,
  pubSubMessageOf,
  structuredRequestOf,
} from './emulate.ts'
export {
  createLogger,
  type Logger,
  type LoggerOptions,
  quietLogger,
  SERVICE_NAME,
  type Severity,
} from './logger.ts'
export {
  BRIDGE_ATTRIBUTES,
  MESSAGE_PUBLISHED,
  type MessagePublishedData,
  MessagePublishedDataSchema,
  MessagePublishedEventSchema,
  type PubsubMessage,
  PubsubMessageSchema,
} from './message-published.ts'
export { createPubSubHandler, type HandlerOptions, type PubSubHandler } from './pubsub.ts'
export { FUNCTION_NAME, registerIngest } from './register.ts'
export { type ServedFunction, serveLocally } from './serve.ts'

let wiring: Promise<PubSubHandler> | undefined

/** Wires once; a failed wiring (a database not up yet) is tried again on the next event. */
function wired(): Promise<PubSubHandler> {
  wiring ??= depsFromEnv(process.env).then(
    ({ deps, options }) => createPubSubHandler(deps, options),
    (error: unknown) => {
      wiring = undefined
      throw error
    },
  )
  return wiring
}

/** The deployed handler: `ingest`, wired from FLEETPIPE_* on its first event. */
export const handler: PubSubHandler = async (event) => (await wired())(event)

registerIngest(FUNCTION_NAME, handler)
