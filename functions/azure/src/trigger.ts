/** How the ingest function is bound to IoT Hub: the options `app.eventHub` is registered with, minus the handler. */
import type { EventHubFunctionOptions, ExponentialBackoffRetryOptions } from '@azure/functions'
import { HOST_SETTINGS } from './config.ts'

/** The function's name in the app (and in Application Insights). */
export const FUNCTION_NAME = 'ingest'

/**
 * The host's retry policy, which runs a batch again only when the handler throws: that is, when
 * messages ran out of in-invocation retries and the dead-letter write failed too (see
 * `createEventHubHandler`). Unbounded (`-1`) because the alternative is a checkpoint past messages
 * that are stored nowhere; the price is a partition that waits while the database is down, with
 * IoT Hub keeping the events (its retention, 1 day by default). Alert on the function's failures
 * or on consumer lag. The retry count lives in the host's memory; the checkpoint has not moved
 * while it retries, so a restarted host reads the same batch again.
 * https://learn.microsoft.com/azure/azure-functions/functions-bindings-error-pages#retries
 */
export const HOST_RETRY = {
  strategy: 'exponentialBackoff',
  maxRetryCount: -1,
  minimumInterval: { seconds: 10 },
  maximumInterval: { minutes: 5 },
} as const satisfies ExponentialBackoffRetryOptions

/**
 * The Event Hub trigger on IoT Hub's Event Hub-compatible endpoint. `cardinality: 'many'` gives the
 * handler the whole batch (without it, one message per invocation); `%…%` are app settings the host
 * resolves (see `HOST_SETTINGS`).
 */
export const ingestTrigger = {
  connection: HOST_SETTINGS.connection,
  eventHubName: `%${HOST_SETTINGS.eventHubName}%`,
  consumerGroup: `%${HOST_SETTINGS.consumerGroup}%`,
  cardinality: 'many',
  retry: HOST_RETRY,
} as const satisfies Omit<EventHubFunctionOptions, 'handler'>
