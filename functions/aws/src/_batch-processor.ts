/**
 * Powertools' SQS partial-batch bookkeeping (failure collection, `batchItemFailures`, the
 * full-batch rule) with one handler call for the whole batch. Powertools' own `BatchProcessor` calls
 * its handler once per record, which would call the core once per record and load each device's
 * state once per record; `process` is replaced here, the rest is Powertools'.
 */
import { BasePartialBatchProcessor, BatchProcessingError, EventType } from '@aws-lambda-powertools/batch'
import type { SQSRecord } from 'aws-lambda'

/** Handles a whole batch; returns, per record in order, the error to retry it for, or undefined. */
export type WholeBatchHandler = (records: SQSRecord[]) => Promise<(Error | undefined)[]>

export class WholeBatchProcessor extends BasePartialBatchProcessor {
  constructor() {
    super(EventType.SQS)
  }

  override async process(): ReturnType<BasePartialBatchProcessor['process']> {
    this.prepare()
    const records = this.records as SQSRecord[]
    const errors = await (this.handler as WholeBatchHandler)(records)
    const processed = records.map((record, i) => {
      const error = errors[i]
      return error ? this.failureHandler(record, error) : this.successHandler(record, undefined)
    })
    // Throws FullBatchFailureError when every record failed (see sqs.ts).
    this.clean()
    return processed
  }

  async processRecord(): ReturnType<BasePartialBatchProcessor['processRecord']> {
    throw new BatchProcessingError('WholeBatchProcessor handles whole batches: call process()')
  }

  processRecordSync(): ReturnType<BasePartialBatchProcessor['processRecordSync']> {
    throw new BatchProcessingError('WholeBatchProcessor handles whole batches: call process()')
  }
}
