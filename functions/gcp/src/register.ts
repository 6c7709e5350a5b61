import * as functions from '@google-cloud/functions-framework'
import type { MessagePublishedData } from './message-published.ts'
import type { PubSubHandler } from './pubsub.ts'

/** The function's name: the deploy's `--entry-point` / `FUNCTION_TARGET`. */
export const FUNCTION_NAME = 'ingest'

/**
 * Registers a handler with the framework under `name`: `index.ts` registers the one wired from the
 * environment as `ingest`; tests register handlers over their own deps, and serve them with
 * `getTestServer(name)` from `@google-cloud/functions-framework/testing`.
 */
export function registerIngest(name: string, handler: PubSubHandler): void {
  functions.cloudEvent<MessagePublishedData>(name, handler)
}
