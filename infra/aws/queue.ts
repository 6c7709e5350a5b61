/**
 * The ingest queue between the IoT rule and the function, and its dead-letter queue: a message that
 * failed transiently `DLQ_MAX_RECEIVE_COUNT` times waits there (14 days) instead of being lost.
 */
import { type Aws, dataProtection, physicalName, type StageArgs } from './common.ts'

export const DLQ_MAX_RECEIVE_COUNT = 5
/** SQS's longest retention. */
export const FOURTEEN_DAYS_SECONDS = 14 * 24 * 60 * 60
/** SQS's default, written out: an outage of the function longer than this loses messages. */
export const FOUR_DAYS_SECONDS = 4 * 24 * 60 * 60

/**
 * AWS: "set the source queue's visibility timeout to at least six times the timeout that you
 * configure on your function", so a batch retried after throttling is not delivered twice; the
 * batching window is added because a message can wait that long in the poller before the function
 * even starts.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html#events-sqs-queueconfig
 */
export function visibilityTimeoutSeconds(
  functionTimeoutSeconds: number,
  batchingWindowSeconds: number,
): number {
  return 6 * (functionTimeoutSeconds + batchingWindowSeconds)
}

export function ingestQueues(
  aws: Aws,
  args: StageArgs & { functionTimeoutSeconds: number; batchingWindowSeconds: number },
) {
  const keep = dataProtection(args.production)
  const deadLetterQueue = new aws.sqs.Queue(
    'IngestDeadLetterQueue',
    {
      name: physicalName(args, 'ingest-dlq'),
      messageRetentionSeconds: FOURTEEN_DAYS_SECONDS,
      sqsManagedSseEnabled: true,
    },
    keep,
  )
  const queue = new aws.sqs.Queue(
    'IngestQueue',
    {
      name: physicalName(args, 'ingest'),
      visibilityTimeoutSeconds: visibilityTimeoutSeconds(
        args.functionTimeoutSeconds,
        args.batchingWindowSeconds,
      ),
      messageRetentionSeconds: FOUR_DAYS_SECONDS,
      // SSE-SQS: encrypted at rest with no KMS key policy for the rule's role to need.
      sqsManagedSseEnabled: true,
      redrivePolicy: deadLetterQueue.arn.apply((deadLetterTargetArn) =>
        JSON.stringify({ deadLetterTargetArn, maxReceiveCount: DLQ_MAX_RECEIVE_COUNT }),
      ),
    },
    keep,
  )
  return { queue, deadLetterQueue }
}
