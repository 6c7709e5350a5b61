/**
 * The IoT topic rule that feeds ingest: its SQL is the one defined in functions/aws (never a copy
 * here), its action queues each message on the ingest queue, and its error action keeps what the
 * action could not deliver (with `failures[]` and `base64OriginalPayload`) on a queue of its own.
 */
import * as pulumi from '@pulumi/pulumi'
import { RULE_SQL, RULE_SQL_VERSION } from '../../functions/aws/src/rule-sql.ts'
import { type Aws, type AwsContext, dataProtection, physicalName, type StageArgs } from './common.ts'
import { iotRuleRole } from './iam.ts'
import { FOURTEEN_DAYS_SECONDS } from './queue.ts'

/**
 * Rule names allow only `[a-zA-Z0-9_]` (no hyphen, unlike every other name here), hence an explicit
 * name: Pulumi's auto-name would append `-<suffix>`.
 * https://docs.aws.amazon.com/iot/latest/apireference/API_CreateTopicRule.html#API_CreateTopicRule_RequestSyntax
 */
export function ruleName(args: Pick<StageArgs, 'app' | 'stage'>): string {
  return `${args.app}_${args.stage}_ingest`.replace(/[^a-zA-Z0-9_]/g, '_')
}

export function ingestTopicRule(
  aws: Aws,
  args: StageArgs & {
    context: AwsContext
    queue: { arn: pulumi.Input<string>; url: pulumi.Input<string> }
  },
) {
  const name = ruleName(args)
  // Known before the rule exists, so the roles' trust can name it.
  const ruleArn = pulumi.interpolate`arn:${args.context.partition}:iot:${args.context.region}:${args.context.accountId}:rule/${name}`
  const errorQueue = new aws.sqs.Queue(
    'IngestRuleErrorQueue',
    {
      name: physicalName(args, 'ingest-rule-errors'),
      messageRetentionSeconds: FOURTEEN_DAYS_SECONDS,
      sqsManagedSseEnabled: true,
    },
    dataProtection(args.production),
  )
  const action = iotRuleRole(aws, 'IngestRuleRole', {
    name: physicalName(args, 'ingest-rule'),
    context: args.context,
    ruleArn,
    statements: [
      { Sid: 'QueueForIngest', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [args.queue.arn] },
    ],
  })
  const errorAction = iotRuleRole(aws, 'IngestRuleErrorRole', {
    name: physicalName(args, 'ingest-rule-errors'),
    context: args.context,
    ruleArn,
    statements: [
      { Sid: 'KeepRuleErrors', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [errorQueue.arn] },
    ],
  })
  const rule = new aws.iot.TopicRule(
    'IngestRule',
    {
      name,
      description: `fleetpipe ${args.stage}: device telemetry and status to the ingest queue`,
      enabled: true,
      sql: RULE_SQL,
      sqlVersion: RULE_SQL_VERSION,
      // useBase64 off: the body is the rule's JSON projection, which already carries the payload in base64.
      sqs: [{ queueUrl: args.queue.url, roleArn: action.role.arn, useBase64: false }],
      errorAction: { sqs: { queueUrl: errorQueue.url, roleArn: errorAction.role.arn, useBase64: false } },
    },
    // The roles' policies first, or the first messages fail for want of sqs:SendMessage.
    { dependsOn: [action.policy, errorAction.policy] },
  )
  return { rule, ruleArn, errorQueue, action, errorAction }
}
