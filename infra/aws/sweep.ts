/**
 * The heartbeat sweep on AWS: EventBridge Scheduler invokes the sweep function once a minute. The
 * function reads and writes device state, publishes alerts and device commands, as ingest does, and
 * lists the state table (Scan); the scheduler's role may invoke that one function and nothing else.
 */
import type * as pulumi from '@pulumi/pulumi'
import { type Aws, type PolicyStatement, physicalName, policyDocument, type StageArgs } from './common.ts'
import { commandTopicsArn, serviceRole } from './iam.ts'
import type { AwsEdge } from './index.ts'

export const SWEEP_SCHEDULE = 'rate(1 minute)'

export function sweepFunctionStatements(edge: AwsEdge): PolicyStatement[] {
  return [
    {
      Sid: 'SweepDeviceState',
      Effect: 'Allow',
      Action: ['dynamodb:Scan', 'dynamodb:BatchGetItem', 'dynamodb:PutItem'],
      Resource: [edge.state.arn],
    },
    { Sid: 'PublishAlerts', Effect: 'Allow', Action: ['sns:Publish'], Resource: [edge.alerts.arn] },
    {
      Sid: 'PublishDeviceCommands',
      Effect: 'Allow',
      Action: ['iot:Publish'],
      Resource: [commandTopicsArn(edge.context)],
    },
  ]
}

export function heartbeatSweep(
  aws: Aws,
  edge: AwsEdge,
  args: StageArgs & { functionArn: pulumi.Input<string>; functionRoleName: pulumi.Input<string> },
) {
  const policy = new aws.iam.RolePolicy('SweepFunctionPolicy', {
    role: args.functionRoleName,
    policy: policyDocument(sweepFunctionStatements(edge)),
  })
  const { role, policy: invoke } = serviceRole(aws, 'SweepSchedulerRole', {
    service: 'scheduler.amazonaws.com',
    context: edge.context,
    name: physicalName(args, 'sweep-scheduler'),
    statements: [
      {
        Sid: 'InvokeSweep',
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: [args.functionArn],
      },
    ],
  })
  const schedule = new aws.scheduler.Schedule(
    'SweepSchedule',
    {
      name: physicalName(args, 'sweep'),
      scheduleExpression: SWEEP_SCHEDULE,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: args.functionArn,
        roleArn: role.arn,
        // A missed minute is made up by the next sweep: two retries, and nothing older than 2 minutes.
        retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 120 },
      },
    },
    { dependsOn: [invoke, policy] },
  )
  return { policy, role, invoke, schedule }
}
