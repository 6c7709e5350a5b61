import * as functions from '@google-cloud/functions-framework'
import type { MessagePublishedData } from './message-published.ts'
import type { PubSubHandler } from './pubsub.ts'
import type { SweepHandler } from './sweep.ts'

/** The function's name: the deploy's `--entry-point` / `FUNCTION_TARGET`. */
export const FUNCTION_NAME = 'ingest'

/** The heartbeat sweep's name: the second function's `--entry-point`, from the same source. */
export const SWEEP_FUNCTION_NAME = 'sweep'

/**
 * Registers a handler with the framework under `name`: `index.ts` registers the one wired from the
 * environment as `ingest`; tests register handlers over their own deps, and serve them with
 * `getTestServer(name)` from `@google-cloud/functions-framework/testing`.
 */
export function registerIngest(name: string, handler: PubSubHandler): void {
  functions.cloudEvent<MessagePublishedData>(name, handler)
}

/** Registers a sweep handler as an HTTP function under `name` (`sweep` in `index.ts`). */
export function registerSweep(name: string, handler: SweepHandler): void {
  functions.http(name, handler)
}
