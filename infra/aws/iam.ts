/**
 * Least-privilege IAM: the ingest function's policy, one statement per need, and the roles IoT
 * rule actions assume. Every action is named; every resource is an ARN this stack created, except
 * `timestream:DescribeEndpoints`, which has no resource-level permission.
 */
import * as pulumi from '@pulumi/pulumi'
import { type Aws, type AwsContext, type PolicyStatement, policyDocument } from './common.ts'

export interface IngestFunctionAccess {
  context: AwsContext
  ingestQueueArn: pulumi.Input<string>
  telemetryTableArn: pulumi.Input<string>
  stateTableArn: pulumi.Input<string>
  alertTopicArn: pulumi.Input<string>
  /** `arn:…:{bucket}/quarantine/*`: the objects `S3Quarantine` writes, and no others. */
  quarantineObjectsArn: pulumi.Input<string>
  /** The data bucket, whose `models/` the model-score rule reads champions from. */
  dataBucketArn: pulumi.Input<string>
}

/** `fleet/{deviceId}/commands`, for any device: the only topics the function publishes to. */
export function commandTopicsArn(context: AwsContext): pulumi.Output<string> {
  return pulumi.interpolate`arn:${context.partition}:iot:${context.region}:${context.accountId}:topic/fleet/*/commands`
}

/** The account's default event bus: where drift's `RetrainRequested` events go. */
export function defaultEventBusArn(context: AwsContext): pulumi.Output<string> {
  return pulumi.interpolate`arn:${context.partition}:events:${context.region}:${context.accountId}:event-bus/default`
}

/**
 * What the ingest function calls, and nothing more (functions/aws/src/deps.ts wires the adapters).
 * Not granted because nothing calls them: sqs:ChangeMessageVisibility (the event source mapping
 * only receives and deletes), dynamodb:GetItem (the state store reads with BatchGetItem), and the
 * Step Functions trigger, which the ingest path does not use (drift goes through EventBridge).
 */
export function ingestFunctionStatements(access: IngestFunctionAccess): PolicyStatement[] {
  return [
    {
      // What Lambda's SQS poller needs, on the function's role.
      // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html#events-sqs-permissions
      Sid: 'ConsumeIngestQueue',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
      Resource: [access.ingestQueueArn],
    },
    {
      Sid: 'WriteTelemetry',
      Effect: 'Allow',
      Action: ['timestream:WriteRecords'],
      Resource: [access.telemetryTableArn],
    },
    {
      // The SDK calls DescribeEndpoints first (Timestream endpoint discovery), and the action has no
      // resource type, so `*` is the only resource it can be granted on.
      // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazontimestream.html
      // https://docs.aws.amazon.com/timestream/latest/developerguide/Using-API.endpoint-discovery.html
      Sid: 'DiscoverTimestreamEndpoints',
      Effect: 'Allow',
      Action: ['timestream:DescribeEndpoints'],
      Resource: ['*'],
    },
    {
      Sid: 'ReadWriteDeviceState',
      Effect: 'Allow',
      Action: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'],
      Resource: [access.stateTableArn],
    },
    {
      Sid: 'WriteQuarantine',
      Effect: 'Allow',
      Action: ['s3:PutObject'],
      Resource: [access.quarantineObjectsArn],
    },
    {
      // `S3ModelSource` reads models/{type}/current.json and the artifact it names.
      Sid: 'ReadModels',
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: [pulumi.interpolate`${access.dataBucketArn}/models/*`],
    },
    {
      // Without it S3 answers 403, not 404, for a type that has no champion yet.
      Sid: 'ListModels',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: [access.dataBucketArn],
      Condition: { StringLike: { 's3:prefix': 'models/*' } },
    },
    {
      Sid: 'PublishAlerts',
      Effect: 'Allow',
      Action: ['sns:Publish'],
      Resource: [access.alertTopicArn],
    },
    {
      Sid: 'PublishDeviceCommands',
      Effect: 'Allow',
      Action: ['iot:Publish'],
      Resource: [commandTopicsArn(access.context)],
    },
    {
      // Drift (`DriftWatch` with `EventBridgeTrigger`): the retraining drift rule listens on this bus.
      Sid: 'RequestRetraining',
      Effect: 'Allow',
      Action: ['events:PutEvents'],
      Resource: [defaultEventBusArn(access.context)],
    },
  ]
}

/**
 * An inline policy on the role SST made for the function. It only coexists with that role because
 * the Function gets no `link`, no `permissions` and `dev: false`: SST then passes the role no
 * inline policy of its own, and a Role with `inlinePolicies` would claim them all and delete this one.
 * https://www.pulumi.com/registry/packages/aws/api-docs/iam/role/ (the note on exclusive management)
 */
export function ingestFunctionPolicy(
  aws: Aws,
  args: IngestFunctionAccess & { functionRoleName: pulumi.Input<string> },
) {
  return new aws.iam.RolePolicy('IngestFunctionPolicy', {
    role: args.functionRoleName,
    policy: policyDocument(ingestFunctionStatements(args)),
  })
}

/**
 * A role the IoT rules engine assumes for one action, with one policy. The trust is limited to this
 * account's rule (`aws:SourceArn`), so no other rule can use it (confused deputy).
 * https://docs.aws.amazon.com/iot/latest/developerguide/cross-service-confused-deputy-prevention.html
 */
export function iotRuleRole(
  aws: Aws,
  logicalName: string,
  args: {
    name: string
    context: AwsContext
    ruleArn: pulumi.Input<string>
    statements: PolicyStatement[]
  },
) {
  const role = new aws.iam.Role(logicalName, {
    name: args.name,
    assumeRolePolicy: pulumi.jsonStringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'iot.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: {
            StringEquals: { 'aws:SourceAccount': args.context.accountId },
            ArnEquals: { 'aws:SourceArn': args.ruleArn },
          },
        },
      ],
    }),
  })
  const policy = new aws.iam.RolePolicy(`${logicalName}Policy`, {
    role: role.name,
    policy: policyDocument(args.statements),
  })
  return { role, policy }
}

/**
 * A role an AWS service assumes to act for this stack (EventBridge Scheduler, Step Functions), with
 * one policy. The trust is limited to this account (`aws:SourceAccount`, against confused deputies).
 */
export function serviceRole(
  aws: Aws,
  logicalName: string,
  args: { service: string; context: AwsContext; name?: string; statements: PolicyStatement[] },
) {
  const role = new aws.iam.Role(logicalName, {
    ...(args.name ? { name: args.name } : {}),
    assumeRolePolicy: pulumi.jsonStringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: args.service },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': args.context.accountId } },
        },
      ],
    }),
  })
  const policy = new aws.iam.RolePolicy(`${logicalName}Policy`, {
    role: role.name,
    policy: policyDocument(args.statements),
  })
  return { role, policy }
}
