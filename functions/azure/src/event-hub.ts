/** IoT Hub → Event Hub-compatible endpoint → Functions v4 `app.eventHub` (`cardinality: 'many'`) → ingest. */
import type { InvocationContext } from '@azure/functions'
import {
  type AlertTransition,
  boundedRaw,
  countRecords,
  defaultRetry,
  describeError,
  type InboundMessage,
  type IngestDeps,
  type IngestOptions,
  parseTopic,
  type Quarantine,
  type QuarantineEntry,
  type RecordResult,
  type RetryOptions,
  retry,
} from '@fleetpipe/core'
import { type EventHubCounts, type Report, writeReport } from './_report.ts'
import { ingestWithRetries } from './_retries.ts'
import { fromEventHubBatch, SOURCE } from './_utils.ts'
import { DeadLetterError } from './errors.ts'

export type { EventHubCounts } from './_report.ts'

export interface EventHubDeps extends IngestDeps {
  /** Where messages go whose retries ran out; the quarantine unless given. */
  deadLetter?: Quarantine
}

export interface EventHubHandlerOptions extends IngestOptions {
  /** On every log line, e.g. `prod`. */
  stage?: string
  /** Retries inside the invocation; the core's `defaultRetry` unless given. */
  retry?: Partial<Omit<RetryOptions, 'retryable'>>
  /** Sees each invocation's full result, e.g. for a local run's counts. */
  onResult?: (result: EventHubResult) => void
}

export interface EventHubResult {
  /** Each message's records from its last attempt; `message` indexes the batch. */
  records: RecordResult[]
  transitions: AlertTransition[]
  counts: EventHubCounts
  deadLetters: QuarantineEntry[]
  attempts: number
}

export type EventHubHandler = (messages: unknown[], context: InvocationContext) => Promise<EventHubCounts>

/**
 * A handler for `app.eventHub` with `cardinality: 'many'` on IoT Hub's Event Hub-compatible
 * endpoint: one `ingest` call per batch, never a throw for bad input (the core quarantines it).
 *
 * The host checkpoints past a batch whether the handler throws or not, so a throw loses the batch
 * unless the function's retry policy runs it again. Transient failures are therefore retried
 * here, with the core's bounded retry: messages whose records failed are ingested again (the
 * core's dedupe makes repeats safe), and those still failing when the attempts run out go to the
 * dead-letter store as `retries_exhausted`, for replay. Only when that write fails too does the
 * handler throw (`DeadLetterError`), leaving the batch to the host's retry policy: it runs the
 * whole batch again, so what was stored comes back as duplicates and what was quarantined is
 * quarantined once more.
 * https://learn.microsoft.com/azure/azure-functions/functions-reliable-event-processing
 *
 * @example
 * app.eventHub('ingest', { ...ingestTrigger, handler: createEventHubHandler(deps, { rules }) })
 */
export function createEventHubHandler(deps: EventHubDeps, options: EventHubHandlerOptions): EventHubHandler {
  const policy: RetryOptions = { ...defaultRetry, ...options.retry }
  const deadLetter = deps.deadLetter ?? deps.quarantine

  return async (messages, context) => {
    // With `cardinality: 'one'` (a misconfiguration) the host passes a single body.
    const bodies: unknown[] = Array.isArray(messages) ? messages : [messages]
    const translated = fromEventHubBatch(bodies, context.triggerMetadata, deps.clock.now())
    const inbound = translated.map((t) => t.message)
    const settled = await ingestWithRetries(inbound, deps, options, policy)

    const deadLetters = [...settled.unsettled].map(([i, detail]) =>
      deadLetterOf(inbound[i] as InboundMessage, detail),
    )
    const counts: EventHubCounts = { ...countRecords(settled.records, settled.transitions), deadLettered: 0 }
    const sequences = translated.map((t) => t.position.sequenceNumber).filter((n) => n !== undefined)
    const report: Report = {
      stage: options.stage,
      counts,
      attempts: settled.attempts,
      partitionId: translated[0]?.position.partitionId,
      sequence: sequences.length > 0 ? [Math.min(...sequences), Math.max(...sequences)] : undefined,
      deadLettered: [...settled.unsettled].map(([i, detail]) => ({ ...translated[i]?.position, detail })),
      foreign: translated.flatMap((t) => (t.problem ? [{ ...t.position, ...t.problem }] : [])),
    }

    if (deadLetters.length > 0) {
      try {
        await retry(() => deadLetter.put(deadLetters), policy)
      } catch (error) {
        writeReport(context, report, 'error')
        throw new DeadLetterError(
          `${deadLetters.length} message(s) ran out of retries and could not be dead-lettered: ${describeError(error)}`,
          { cause: error },
        )
      }
      for (const record of settled.records) {
        if (record.outcome === 'failed' && settled.unsettled.has(record.message)) {
          counts.failed--
          counts.deadLettered++
        }
      }
    }

    writeReport(context, report)
    options.onResult?.({
      records: settled.records,
      transitions: settled.transitions,
      counts,
      deadLetters,
      attempts: settled.attempts,
    })
    return counts
  }
}

/** A message whose retries ran out, kept whole so a replay can ingest it again. */
function deadLetterOf(message: InboundMessage, detail: string): QuarantineEntry {
  const bytes = typeof message.payload === 'string' ? Buffer.from(message.payload) : message.payload
  return {
    reason: 'retries_exhausted',
    path: '',
    message: detail,
    topic: message.topic,
    deviceId: message.transportDeviceId ?? parseTopic(message.topic)?.deviceId,
    receivedAt: message.receivedAt,
    source: SOURCE,
    ...boundedRaw(bytes),
  }
}
