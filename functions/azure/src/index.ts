/**
 * fleetpipe's Azure function app, as a library: the handler factory, the trigger options, the
 * emulation and `ingestHandler`, which is wired from the app settings on its first invocation.
 * Importing it registers nothing; `main.ts`, the app's entry, registers `ingest` with the host.
 */
import { depsFromEnv } from './deps.ts'
import { createEventHubHandler, type EventHubHandler } from './event-hub.ts'

export {
  type AlertConfig,
  type AzureConfig,
  DEFAULT_CONSUMER_GROUP,
  EnvSchema,
  HOST_SETTINGS,
  loadConfig,
} from './config.ts'
export { alertSinkFromConfig, depsFromEnv, type Wiring } from './deps.ts'
export { type EventHubBatch, eventHubBatchOf, type Publish } from './emulate.ts'
export { DeadLetterError } from './errors.ts'
export {
  createEventHubHandler,
  type EventHubCounts,
  type EventHubDeps,
  type EventHubHandler,
  type EventHubHandlerOptions,
  type EventHubResult,
} from './event-hub.ts'
export { FUNCTION_NAME, HOST_RETRY, ingestTrigger } from './trigger.ts'

let wired: Promise<EventHubHandler> | undefined

/** The registered handler: wires itself on first use, and tries again next time if that failed. */
export const ingestHandler: EventHubHandler = async (messages, context) => {
  wired ??= depsFromEnv(process.env).then(({ deps, options }) => createEventHubHandler(deps, options))
  let handler: EventHubHandler
  try {
    handler = await wired
  } catch (error) {
    wired = undefined
    throw error
  }
  return handler(messages, context)
}
