/** The ingest function's SQS event source: batches, and partial batch responses. */
import type * as pulumi from '@pulumi/pulumi'
import type { Aws } from './common.ts'

export const INGEST_BATCH = {
  /** One core call per batch: larger batches load each device's state fewer times. */
  size: 100,
  /**
   * Lambda requires a batching window of at least 1 s once the batch size is over 10.
   * https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html
   */
  windowSeconds: 5,
}

/**
 * `ReportBatchItemFailures`: the handler names the messages that failed transiently, and only those
 * go back to the queue. https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 *
 * `dependsOn` takes the function's policy: Lambda checks the role may ReceiveMessage when the
 * mapping is created, and refuses it otherwise.
 */
export function ingestEventSource(
  aws: Aws,
  args: {
    queueArn: pulumi.Input<string>
    functionArn: pulumi.Input<string>
    dependsOn: pulumi.Resource[]
  },
) {
  return new aws.lambda.EventSourceMapping(
    'IngestEventSource',
    {
      eventSourceArn: args.queueArn,
      functionName: args.functionArn,
      batchSize: INGEST_BATCH.size,
      maximumBatchingWindowInSeconds: INGEST_BATCH.windowSeconds,
      functionResponseTypes: ['ReportBatchItemFailures'],
    },
    { dependsOn: args.dependsOn },
  )
}
