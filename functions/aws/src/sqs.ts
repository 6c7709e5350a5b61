/** IoT rule → SQS → Lambda (batches, `ReportBatchItemFailures`) → ingest. */
import { processPartialResponse } from '@aws-lambda-powertools/batch'
import { type IngestDeps, ingest, TransientError } from '@fleetpipe/core'
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'
import { WholeBatchProcessor } from './_batch-processor.ts'
import { type HandlerOptions, observers, report, reportForeign, startInvocation } from './_report.ts'
import { fromSqsRecord } from './_utils.ts'

export type SqsHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>

/**
 * A handler for an SQS event source mapping with `ReportBatchItemFailures`: one `ingest` call per
 * batch (each device's state is loaded once), and `batchItemFailures` naming exactly the messages
 * with a record that failed transiently. Quarantined records and duplicates are done with: they
 * are successes, and their messages leave the queue.
 *
 * When every message of a batch failed, Powertools throws `FullBatchFailureError` instead of
 * listing them all. Either way SQS makes them all visible again after the visibility timeout
 * (and moves them to the DLQ after `maxReceiveCount`); the throw also makes the invocation count
 * in the function's `Errors` metric, so an outage of the store shows there.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 *
 * The SQS envelope is not validated with the Powertools parser's `SqsSchema`: it imports
 * `{ z } from 'zod'`, which bundles every zod locale (~370 KB more, measured with esbuild), and
 * Lambda builds the envelope anyway. The bodies, which devices influence, are validated.
 *
 * @example
 * export const handler = createSqsHandler(deps, { stage: 'dev', rules })
 */
export function createSqsHandler(deps: IngestDeps, options: HandlerOptions): SqsHandler {
  const obs = observers(options)

  const ingestBatch = async (records: SQSRecord[]): Promise<(Error | undefined)[]> => {
    const now = deps.clock.now()
    const messages = records.map((record, i) => {
      const { message, problem } = fromSqsRecord(record, i, now)
      if (problem) reportForeign(obs, problem, { messageId: record.messageId })
      return message
    })
    const result = await ingest(messages, deps, options)
    options.onResult?.(result)
    report(obs, result, (i) => ({ record: i, messageId: records[i]?.messageId }))
    // The readings are stored: a failed drift check must not send the batch round again. Its run
    // stays due in the state table, and a later invocation starts it.
    await options.drift
      ?.observe(messages, result)
      .catch((error: Error) => obs.logger.error('drift check failed', { error }))
    // One SQS message is one inbound message, so a record's `message` index is its SQS record's.
    const errors: (Error | undefined)[] = records.map(() => undefined)
    for (const record of result.records) {
      if (record.outcome === 'failed' && !errors[record.message]) {
        errors[record.message] = new TransientError(record.detail ?? 'failed')
      }
    }
    return errors
  }

  return async (event, context) => {
    startInvocation(obs, context)
    return processPartialResponse(event, ingestBatch, new WholeBatchProcessor(), { context })
  }
}
