/** Pub/Sub (through Eventarc) → Cloud Run function → ingest, one message per invocation. */
import {
  type IngestCounts,
  type IngestDeps,
  type IngestOptions,
  type IngestResult,
  ingest,
  TransientError,
} from '@fleetpipe/core'
import type { CloudEvent } from '@google-cloud/functions-framework'
import { fromCloudEvent } from './_utils.ts'
import { createLogger, type Logger } from './logger.ts'
import type { MessagePublishedData } from './message-published.ts'

export interface HandlerOptions extends IngestOptions {
  /** On every log line, e.g. `prod`. */
  stage: string
  logger?: Logger
  /** Sees each invocation's full result, e.g. for a local run's counts. */
  onResult?: (result: IngestResult) => void
}

export type PubSubHandler = (event: CloudEvent<MessagePublishedData>) => Promise<IngestCounts>

/**
 * A handler for `google.cloud.pubsub.topic.v1.messagePublished`. Bad input is quarantined by the
 * core and the handler returns normally, so the framework answers 2xx and Pub/Sub acknowledges:
 * redelivering it could not help. A transient failure throws a TransientError: the framework
 * answers 500 and, with retries enabled on the trigger, Pub/Sub redelivers the message with
 * backoff; the core's dedupe makes the redelivery store each reading once. With retries off (the
 * Cloud Functions v2 API default) the message is dropped instead.
 * https://cloud.google.com/functions/docs/writing/retries
 *
 * The event is parsed, not trusted: the framework hands a function whatever a POST carried.
 *
 * @example
 * functions.cloudEvent('ingest', createPubSubHandler(deps, { stage: 'dev', rules }))
 */
export function createPubSubHandler(deps: IngestDeps, options: HandlerOptions): PubSubHandler {
  const logger = options.logger ?? createLogger({ stage: options.stage })
  return async (event) => {
    const { message, messageId, problem } = fromCloudEvent(event, deps.clock.now())
    const where = { messageId, eventId: field(event, 'id'), eventType: field(event, 'type') }
    if (problem) {
      logger.warn('event is not a Pub/Sub message from the MQTT bridge, quarantining it', {
        ...where,
        ...problem,
      })
    }
    const result = await ingest([message], deps, options)
    options.onResult?.(result)
    const failed = result.records.filter((r) => r.outcome === 'failed')
    for (const record of failed) {
      logger.warn('record failed, Pub/Sub will redeliver the message', {
        ...where,
        kind: record.kind,
        detail: record.detail,
      })
    }
    logger.info('ingested', { ...where, topic: message.topic, counts: result.counts })
    if (failed.length > 0) {
      throw new TransientError(`${failed.length} record(s) failed: ${failed[0]?.detail ?? 'unknown error'}`)
    }
    return result.counts
  }
}

function field(event: unknown, name: string): unknown {
  return typeof event === 'object' && event !== null ? (event as Record<string, unknown>)[name] : undefined
}
