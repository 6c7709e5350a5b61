/**
 * The retraining pipeline on AWS: the data bucket's events on EventBridge, rules for dataset drops
 * and the ingest's drift events, the trigger function, the task functions, the state machine
 * (STANDARD: executions are named, deduplicated for 90 days, and long training fits), and the SNS
 * topic run outcomes go to. Least privilege throughout: the state machine may invoke its task
 * functions and nothing else; the trigger may start that one machine; each task reads and writes
 * only the prefixes its handler touches.
 *
 * The functions are made by the caller (sst.config.ts, with `sst.aws.Function`), handed the
 * environment this module computes: `taskFunction` and `triggerFunction` are called once each.
 */
import * as pulumi from '@pulumi/pulumi'
import {
  retrainDefinition,
  TASKS,
  type TaskName,
  type TaskResources,
} from '../../packages/retrain/src/definition.ts'
import { type Aws, type PolicyStatement, physicalName, policyDocument } from './common.ts'
import { serviceRole } from './iam.ts'
import type { AwsEdge } from './index.ts'

export interface FunctionRef {
  functionArn: pulumi.Input<string>
  functionRoleName: pulumi.Input<string>
}

export interface AwsRetrainArgs {
  /** The app's name (`$app.name`), the first part of every physical name. */
  app: string
  /** Makes the Lambda for one task state (handler `functions/aws/src/retrain.{exportDataset|validateDataset|…}`). */
  taskFunction: (task: TaskName, environment: Record<string, pulumi.Input<string>>) => FunctionRef
  /** Makes the trigger Lambda (handler `functions/aws/src/retrain.trigger`). */
  triggerFunction: (environment: Record<string, pulumi.Input<string>>) => FunctionRef
}

/** The handler export of each task in functions/aws/src/retrain.ts. */
export const TASK_HANDLER_EXPORTS: Record<TaskName, string> = {
  ExportDataset: 'exportDataset',
  ValidateDataset: 'validateDataset',
  Train: 'train',
  Evaluate: 'evaluate',
  Register: 'register',
  Notify: 'notify',
}

/** Which bucket prefixes each task reads (r) and writes (w): the handlers in packages/retrain/src/tasks.ts. */
const TASK_ACCESS: Record<
  TaskName,
  { read: string[]; write: string[]; listModels?: boolean; publish?: boolean }
> = {
  // Not implemented on AWS yet (the run fails with a DatasetError that says so): it gets nothing.
  ExportDataset: { read: [], write: [] },
  ValidateDataset: { read: ['datasets/'], write: [] },
  Train: { read: ['datasets/'], write: ['runs/'] },
  // Reading a pointer that is not there answers 403 without s3:ListBucket, 404 (no champion yet) with it.
  Evaluate: { read: ['datasets/', 'runs/', 'models/'], write: [], listModels: true },
  Register: { read: ['runs/', 'models/'], write: ['models/'], listModels: true },
  Notify: { read: [], write: [], publish: true },
}

/** S3 EventBridge patterns match a key by wildcard: the prefix and a dataset suffix in one. */
export const DATASET_KEY_PATTERNS = ['datasets/*.ndjson', 'datasets/*.jsonl', 'datasets/*.csv']

export function datasetEventPattern(bucketName: string) {
  return {
    source: ['aws.s3'],
    'detail-type': ['Object Created'],
    detail: {
      bucket: { name: [bucketName] },
      object: { key: DATASET_KEY_PATTERNS.map((wildcard) => ({ wildcard })) },
    },
  }
}

export const DRIFT_EVENT_PATTERN = { source: ['fleetpipe'], 'detail-type': ['RetrainRequested'] }

export function awsRetrain(aws: Aws, edge: AwsEdge, args: AwsRetrainArgs) {
  const stageArgs = { app: args.app, stage: edge.stage }
  const bucket = edge.data.bucket
  const topic = new aws.sns.Topic('RetrainTopic', {
    name: physicalName(stageArgs, 'retrain'),
    displayName: `fleetpipe ${edge.stage} retraining`,
  })
  const environment = {
    FLEETPIPE_STAGE: edge.stage,
    FLEETPIPE_DATA_BUCKET: bucket.bucket,
    FLEETPIPE_RETRAIN_TOPIC_ARN: topic.arn,
  }

  const tasks = Object.fromEntries(
    TASKS.map((task) => [task, args.taskFunction(task, environment)]),
  ) as Record<TaskName, FunctionRef>
  // A task that needs nothing (ExportDataset, for now) gets no policy: IAM refuses an empty one.
  const taskPolicies = TASKS.flatMap((task) => {
    const statements = taskStatements(task, bucket.arn, topic.arn)
    if (statements.length === 0) return []
    return [
      new aws.iam.RolePolicy(`Retrain${task}Policy`, {
        role: tasks[task].functionRoleName,
        policy: policyDocument(statements),
      }),
    ]
  })

  const { role: machineRole, policy: machinePolicy } = serviceRole(aws, 'RetrainStateMachineRole', {
    service: 'states.amazonaws.com',
    context: edge.context,
    statements: [
      {
        Sid: 'InvokeTaskFunctions',
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: TASKS.map((task) => tasks[task].functionArn),
      },
    ],
  })
  const definition = pulumi.all(TASKS.map((task) => pulumi.output(tasks[task].functionArn))).apply((arns) =>
    JSON.stringify(
      retrainDefinition({
        resources: Object.fromEntries(TASKS.map((task, i) => [task, arns[i]])) as TaskResources,
      }),
    ),
  )
  const stateMachine = new aws.sfn.StateMachine(
    'RetrainStateMachine',
    { name: physicalName(stageArgs, 'retrain'), type: 'STANDARD', roleArn: machineRole.arn, definition },
    { dependsOn: [machinePolicy] },
  )

  const trigger = args.triggerFunction({ ...environment, FLEETPIPE_STATE_MACHINE_ARN: stateMachine.arn })
  const triggerPolicy = new aws.iam.RolePolicy('RetrainTriggerPolicy', {
    role: trigger.functionRoleName,
    policy: policyDocument([
      {
        Sid: 'StartRetraining',
        Effect: 'Allow',
        Action: ['states:StartExecution'],
        Resource: [stateMachine.arn],
      },
    ]),
  })

  // S3 sends every event of the bucket to the default bus; the rules pick datasets out.
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-event-notifications-eventbridge.html
  const notification = new aws.s3.BucketNotification('DataBucketEventBridge', {
    bucket: bucket.id,
    eventbridge: true,
  })
  const rules = {
    dataset: new aws.cloudwatch.EventRule('RetrainDatasetRule', {
      name: physicalName(stageArgs, 'retrain-dataset'),
      description: 'A dataset dropped under datasets/ in the data bucket starts retraining',
      eventPattern: bucket.bucket.apply((name) => JSON.stringify(datasetEventPattern(name))),
    }),
    drift: new aws.cloudwatch.EventRule('RetrainDriftRule', {
      name: physicalName(stageArgs, 'retrain-drift'),
      description: 'Drift seen by ingest starts retraining',
      eventPattern: JSON.stringify(DRIFT_EVENT_PATTERN),
    }),
  }
  const targets = Object.entries(rules).map(([kind, rule]) => {
    const name = kind === 'dataset' ? 'Dataset' : 'Drift'
    const permission = new aws.lambda.Permission(`Retrain${name}Invoke`, {
      action: 'lambda:InvokeFunction',
      function: trigger.functionArn,
      principal: 'events.amazonaws.com',
      sourceArn: rule.arn,
    })
    const target = new aws.cloudwatch.EventTarget(
      `Retrain${name}Target`,
      { rule: rule.name, arn: trigger.functionArn },
      { dependsOn: [permission] },
    )
    return { permission, target }
  })
  return {
    topic,
    tasks,
    taskPolicies,
    machineRole,
    machinePolicy,
    stateMachine,
    trigger,
    triggerPolicy,
    notification,
    rules,
    targets,
  }
}

export type AwsRetrain = ReturnType<typeof awsRetrain>

/** One task function's statements: its bucket prefixes, and the topic for Notify. */
export function taskStatements(
  task: TaskName,
  bucketArn: pulumi.Input<string>,
  topicArn: pulumi.Input<string>,
): PolicyStatement[] {
  const access = TASK_ACCESS[task]
  const objects = (prefixes: string[]) =>
    prefixes.map((prefix) => pulumi.interpolate`${bucketArn}/${prefix}*`)
  const statements: PolicyStatement[] = []
  if (access.read.length > 0)
    statements.push({
      Sid: 'ReadObjects',
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: objects(access.read),
    })
  if (access.write.length > 0)
    statements.push({
      Sid: 'WriteObjects',
      Effect: 'Allow',
      Action: ['s3:PutObject'],
      Resource: objects(access.write),
    })
  if (access.listModels)
    statements.push({
      Sid: 'ListModels',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: [bucketArn],
      Condition: { StringLike: { 's3:prefix': 'models/*' } },
    })
  if (access.publish)
    statements.push({ Sid: 'PublishOutcome', Effect: 'Allow', Action: ['sns:Publish'], Resource: [topicArn] })
  return statements
}
