/**
 * fleetpipe's GCP Cloud Run functions. Importing this module registers `ingest`
 * (`--target=ingest --signature-type=cloudevent`) and `sweep` (`--target=sweep
 * --signature-type=http`) with the functions-framework; each deployed function runs the one its
 * entry point names. Handlers are wired from the environment on their first request, so importing
 * needs no environment. Tests use the factories.
 */
import { depsFromEnv, type Wiring } from './deps.ts'
import { createPubSubHandler, type PubSubHandler } from './pubsub.ts'
import { FUNCTION_NAME, registerIngest, registerSweep, SWEEP_FUNCTION_NAME } from './register.ts'
import { createSweepHandler, type SweepHandler } from './sweep.ts'

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
export { FUNCTION_NAME, registerIngest, registerSweep, SWEEP_FUNCTION_NAME } from './register.ts'
export { type ServedFunction, serveLocally } from './serve.ts'
export { createSweepHandler, type SweepHandler } from './sweep.ts'

let wiring: Promise<Wiring> | undefined

/** Wires once; a failed wiring (a database not up yet) is tried again on the next request. */
function wired(): Promise<Wiring> {
  wiring ??= depsFromEnv(process.env).catch((error: unknown) => {
    wiring = undefined
    throw error
  })
  return wiring
}

let ingest: PubSubHandler | undefined

/** The deployed handler: `ingest`, wired from FLEETPIPE_* on its first event. */
export const handler: PubSubHandler = async (event) => {
  const { deps, options } = await wired()
  ingest ??= createPubSubHandler(deps, options)
  return ingest(event)
}

let sweeper: SweepHandler | undefined

/** The deployed `sweep`, wired the same way on its first request; a wiring failure answers 500. */
export const sweepHandler: SweepHandler = async (req, res) => {
  const { deps, options } = await wired()
  sweeper ??= createSweepHandler(deps, options)
  return sweeper(req, res)
}

registerIngest(FUNCTION_NAME, handler)
registerSweep(SWEEP_FUNCTION_NAME, sweepHandler)
