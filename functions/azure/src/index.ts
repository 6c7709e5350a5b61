/**
 * fleetpipe's Azure function app, as a library: the handler factory, the trigger options, the
 * emulation, and `ingestHandler` and `sweepHandler`, which are wired from the app settings on their
 * first invocation. Importing it registers nothing; `main.ts`, the app's entry, registers `ingest`
 * and `sweep` with the host.
 */
import { depsFromEnv, type Wiring } from './deps.ts'
import { createEventHubHandler, type EventHubHandler } from './event-hub.ts'
import { createSweepHandler, type SweepHandler } from './sweep.ts'

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
export {
  createSweepHandler,
  SWEEP_FUNCTION_NAME,
  type SweepHandler,
  type SweepHandlerOptions,
  sweepTrigger,
} from './sweep.ts'
export { FUNCTION_NAME, HOST_RETRY, ingestTrigger } from './trigger.ts'

let wiring: Promise<Wiring> | undefined

/**
 * One wiring for both functions, so they share the database pool and the clients; a failed wiring
 * is not kept, and the next invocation reads the settings again.
 */
async function wired(): Promise<Wiring> {
  wiring ??= depsFromEnv(process.env)
  const current = wiring
  try {
    return await current
  } catch (error) {
    if (wiring === current) wiring = undefined
    throw error
  }
}

let ingest: EventHubHandler | undefined

/** The registered `ingest` handler. */
export const ingestHandler: EventHubHandler = async (messages, context) => {
  const { deps, options } = await wired()
  ingest ??= createEventHubHandler(deps, options)
  return ingest(messages, context)
}

let sweeper: SweepHandler | undefined

/** The registered `sweep` handler: the heartbeat sweep, on the timer's minute. */
export const sweepHandler: SweepHandler = async (timer, context) => {
  const { deps, options } = await wired()
  sweeper ??= createSweepHandler(deps, options)
  return sweeper(timer, context)
}
