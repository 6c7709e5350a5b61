/**
 * The AWS edge, in two steps around the function sst.config.ts creates: `awsEdge` makes what the
 * function's environment names (stores, topic, queues, rule, device policy), `awsIngest` what needs
 * the function (its policy and its event source). One call could not do both: the function needs
 * the stores' names before it exists, and the event source needs the function.
 */
import * as pulumi from '@pulumi/pulumi'
import { alertTopic } from './alerts.ts'
import { dataBucket, QUARANTINE_PREFIX } from './bucket.ts'
import { type Aws, awsContext, type StageArgs } from './common.ts'
import { INGEST_BATCH, ingestEventSource } from './event-source.ts'
import { ingestFunctionPolicy } from './iam.ts'
import { devicePolicy } from './iot-policy.ts'
import { ingestQueues } from './queue.ts'
import { maxAgeMs, stateStore, telemetryStore } from './stores.ts'
import { ingestTopicRule } from './topic-rule.ts'

export { alertTopic } from './alerts.ts'
export { dataBucket, QUARANTINE_DAYS, QUARANTINE_PREFIX } from './bucket.ts'
export {
  type Aws,
  type AwsContext,
  awsContext,
  dataProtection,
  physicalName,
  type StageArgs,
} from './common.ts'
export { INGEST_BATCH, ingestEventSource } from './event-source.ts'
export { commandTopicsArn, ingestFunctionPolicy, ingestFunctionStatements, iotRuleRole } from './iam.ts'
export { devicePolicy, devicePolicyStatements, THING_NAME } from './iot-policy.ts'
export { DLQ_MAX_RECEIVE_COUNT, ingestQueues, visibilityTimeoutSeconds } from './queue.ts'
export {
  type AwsRetrain,
  type AwsRetrainArgs,
  awsRetrain,
  DATASET_KEY_PATTERNS,
  DRIFT_EVENT_PATTERN,
  datasetEventPattern,
  type FunctionRef,
  TASK_HANDLER_EXPORTS,
  taskStatements,
} from './retrain.ts'
export { maxAgeMs, stateStore, TELEMETRY_RETENTION, telemetryStore } from './stores.ts'
export { heartbeatSweep, SWEEP_SCHEDULE, sweepFunctionStatements } from './sweep.ts'
export { ingestTopicRule, ruleName } from './topic-rule.ts'

export interface AwsEdgeArgs extends StageArgs {
  /** The ingest function's timeout, which the queue's visibility timeout is derived from. */
  functionTimeoutSeconds: number
}

export function awsEdge(aws: Aws, args: AwsEdgeArgs) {
  const context = awsContext(aws)
  const telemetry = telemetryStore(aws, args)
  const state = stateStore(aws, args)
  const alerts = alertTopic(aws, args)
  const data = dataBucket(aws, args)
  const queues = ingestQueues(aws, { ...args, batchingWindowSeconds: INGEST_BATCH.windowSeconds })
  const rule = ingestTopicRule(aws, { ...args, context, queue: queues.queue })
  const device = devicePolicy(aws, { ...args, context })
  // The account's ATS data endpoint, which AWS recommends over the SDK's default for iot-data.
  // https://docs.aws.amazon.com/iot/latest/developerguide/iot-connect-devices.html#iot-connect-device-endpoints
  const iotDataEndpoint = aws.iot
    .getEndpointOutput({ endpointType: 'iot:Data-ATS' })
    .endpointAddress.apply((address) => `https://${address}`)
  return {
    stage: args.stage,
    context,
    telemetry,
    state,
    alerts,
    data,
    queues,
    rule,
    devicePolicy: device,
    iotDataEndpoint,
  }
}

export type AwsEdge = ReturnType<typeof awsEdge>

/** The variables functions/aws/src/config.ts reads, from what `awsEdge` made. */
export function ingestEnvironment(edge: AwsEdge): Record<string, pulumi.Input<string>> {
  return {
    FLEETPIPE_STAGE: edge.stage,
    FLEETPIPE_TIMESTREAM_DATABASE: edge.telemetry.database.databaseName,
    FLEETPIPE_TIMESTREAM_TABLE: edge.telemetry.table.tableName,
    FLEETPIPE_STATE_TABLE: edge.state.name,
    FLEETPIPE_ALERT_TOPIC_ARN: edge.alerts.arn,
    FLEETPIPE_QUARANTINE_BUCKET: edge.data.bucket.bucket,
    // The horizon the store accepts (see TELEMETRY_RETENTION); FLEETPIPE_RULES unset: the core's rules.
    FLEETPIPE_MAX_AGE_MS: String(maxAgeMs(edge.telemetry.retention)),
    FLEETPIPE_IOT_DATA_ENDPOINT: edge.iotDataEndpoint,
  }
}

export function awsIngest(
  aws: Aws,
  edge: AwsEdge,
  fn: { functionArn: pulumi.Input<string>; functionRoleName: pulumi.Input<string> },
) {
  const policy = ingestFunctionPolicy(aws, {
    functionRoleName: fn.functionRoleName,
    context: edge.context,
    ingestQueueArn: edge.queues.queue.arn,
    telemetryTableArn: edge.telemetry.table.arn,
    stateTableArn: edge.state.arn,
    alertTopicArn: edge.alerts.arn,
    quarantineObjectsArn: pulumi.interpolate`${edge.data.bucket.arn}/${QUARANTINE_PREFIX}*`,
    dataBucketArn: edge.data.bucket.arn,
  })
  const eventSource = ingestEventSource(aws, {
    queueArn: edge.queues.queue.arn,
    functionArn: fn.functionArn,
    dependsOn: [policy],
  })
  return { policy, eventSource }
}
