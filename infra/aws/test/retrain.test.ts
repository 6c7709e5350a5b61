import validator from 'asl-validator'
import { beforeAll, describe, expect, it } from 'vitest'
import { TASKS } from '../../../packages/retrain/src/definition.ts'
import { ACCOUNT, buildStages, REGION, type Stage, statementsOf, value } from './_mocks.ts'

let dev: Stage
let production: Stage

beforeAll(async () => {
  ;({ dev, production } = await buildStages())
})

const fn = (stage: string, name: string) =>
  `arn:aws:lambda:${REGION}:${ACCOUNT}:function:fleetpipe-${stage}-${name}`

describe('retraining infra', () => {
  it('sends the data bucket’s events to EventBridge, and routes dataset drops under datasets/ to the trigger', async () => {
    const { retrain, edge } = dev
    expect(await value(retrain.notification.bucket)).toBe(await value(edge.data.bucket.id))
    expect(await value(retrain.notification.eventbridge)).toBe(true)
    const bucketName = await value(edge.data.bucket.bucket)
    expect(JSON.parse(await value(retrain.rules.dataset.eventPattern as never))).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: {
        bucket: { name: [bucketName] },
        object: {
          key: [
            { wildcard: 'datasets/*.ndjson' },
            { wildcard: 'datasets/*.jsonl' },
            { wildcard: 'datasets/*.csv' },
          ],
        },
      },
    })
    expect(JSON.parse(await value(retrain.rules.drift.eventPattern as never))).toEqual({
      source: ['fleetpipe'],
      'detail-type': ['RetrainRequested'],
    })
    for (const [i, rule] of [retrain.rules.dataset, retrain.rules.drift].entries()) {
      const { target, permission } = retrain.targets[i] as (typeof retrain.targets)[number]
      expect(await value(target.rule)).toBe(await value(rule.name))
      expect(await value(target.arn)).toBe(fn('dev', 'RetrainTrigger'))
      expect(await value(permission.function)).toBe(fn('dev', 'RetrainTrigger'))
      expect(await value(permission.principal)).toBe('events.amazonaws.com')
      expect(await value(permission.sourceArn)).toBe(await value(rule.arn))
    }
  })

  it('deploys the generated definition, valid ASL, each task state on its own function, as a STANDARD machine', async () => {
    const { stateMachine } = dev.retrain
    expect(await value(stateMachine.type)).toBe('STANDARD')
    expect(await value(stateMachine.name)).toBe('fleetpipe-dev-retrain')
    expect(await value(stateMachine.roleArn)).toBe(await value(dev.retrain.machineRole.arn))
    const definition = JSON.parse(await value(stateMachine.definition))
    const result = validator(definition)
    expect(result.errors, result.errorsText('\n')).toEqual([])
    for (const task of TASKS) expect(definition.States[task].Resource).toBe(fn('dev', `Retrain${task}`))
    expect(definition.States.NotifyFailure.Resource).toBe(fn('dev', 'RetrainNotify'))
    const production_ = JSON.parse(await value(production.retrain.stateMachine.definition))
    expect(production_.States.Train.Resource).toBe(fn('production', 'RetrainTrain'))
  })

  it('lets the state machine invoke its task functions and nothing else, assumed by Step Functions of this account only', async () => {
    const { machineRole, machinePolicy } = dev.retrain
    expect(await statementsOf(machinePolicy.policy)).toEqual([
      {
        Sid: 'InvokeTaskFunctions',
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: TASKS.map((task) => fn('dev', `Retrain${task}`)),
      },
    ])
    expect(await statementsOf(machineRole.assumeRolePolicy)).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'states.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      },
    ])
  })

  it('lets the trigger start that one machine, and hands it the machine’s ARN', async () => {
    const { triggerPolicy, stateMachine } = dev.retrain
    expect(await value(triggerPolicy.role)).toBe('fleetpipe-dev-RetrainTriggerRole')
    expect(await statementsOf(triggerPolicy.policy)).toEqual([
      {
        Sid: 'StartRetraining',
        Effect: 'Allow',
        Action: ['states:StartExecution'],
        Resource: [await value(stateMachine.arn)],
      },
    ])
    const environment = dev.functionEnvironments.RetrainTrigger as Record<string, unknown>
    expect(await value(environment.FLEETPIPE_STATE_MACHINE_ARN as string)).toBe(await value(stateMachine.arn))
  })

  it('gives each task function only the bucket prefixes its handler touches, and Notify only the topic', async () => {
    const bucketArn = await value(dev.edge.data.bucket.arn)
    const topicArn = await value(dev.retrain.topic.arn)
    const byRole = new Map<string, unknown>()
    for (const policy of dev.retrain.taskPolicies)
      byRole.set(await value(policy.role), await statementsOf(policy.policy))
    const listModels = {
      Sid: 'ListModels',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: [bucketArn],
      Condition: { StringLike: { 's3:prefix': 'models/*' } },
    }
    expect(Object.fromEntries(byRole)).toEqual({
      'fleetpipe-dev-RetrainValidateDatasetRole': [
        {
          Sid: 'ReadObjects',
          Effect: 'Allow',
          Action: ['s3:GetObject'],
          Resource: [`${bucketArn}/datasets/*`],
        },
      ],
      'fleetpipe-dev-RetrainTrainRole': [
        {
          Sid: 'ReadObjects',
          Effect: 'Allow',
          Action: ['s3:GetObject'],
          Resource: [`${bucketArn}/datasets/*`],
        },
        { Sid: 'WriteObjects', Effect: 'Allow', Action: ['s3:PutObject'], Resource: [`${bucketArn}/runs/*`] },
      ],
      'fleetpipe-dev-RetrainEvaluateRole': [
        {
          Sid: 'ReadObjects',
          Effect: 'Allow',
          Action: ['s3:GetObject'],
          Resource: [`${bucketArn}/datasets/*`, `${bucketArn}/runs/*`, `${bucketArn}/models/*`],
        },
        listModels,
      ],
      'fleetpipe-dev-RetrainRegisterRole': [
        {
          Sid: 'ReadObjects',
          Effect: 'Allow',
          Action: ['s3:GetObject'],
          Resource: [`${bucketArn}/runs/*`, `${bucketArn}/models/*`],
        },
        {
          Sid: 'WriteObjects',
          Effect: 'Allow',
          Action: ['s3:PutObject'],
          Resource: [`${bucketArn}/models/*`],
        },
        listModels,
      ],
      'fleetpipe-dev-RetrainNotifyRole': [
        { Sid: 'PublishOutcome', Effect: 'Allow', Action: ['sns:Publish'], Resource: [topicArn] },
      ],
    })
  })

  it('hands the task functions the bucket, the topic and the stage', async () => {
    for (const task of TASKS) {
      const environment = dev.functionEnvironments[`Retrain${task}`] as Record<string, string>
      expect({
        stage: await value(environment.FLEETPIPE_STAGE),
        bucket: await value(environment.FLEETPIPE_DATA_BUCKET),
        topic: await value(environment.FLEETPIPE_RETRAIN_TOPIC_ARN),
      }).toEqual({
        stage: 'dev',
        bucket: await value(dev.edge.data.bucket.bucket),
        topic: await value(dev.retrain.topic.arn),
      })
    }
    expect(await value(dev.retrain.topic.name)).toBe('fleetpipe-dev-retrain')
  })
})
