import { beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT, buildStages, REGION, resourcesIn, type Stage, statementsOf, value } from './_mocks.ts'

const SWEEP_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:fleetpipe-dev-Sweep`
let dev: Stage
let sweep: ReturnType<typeof import('../index.ts').heartbeatSweep>

beforeAll(async () => {
  ;({ dev } = await buildStages())
  const aws = await import('@pulumi/aws')
  const infra = await import('../index.ts')
  sweep = infra.heartbeatSweep(aws, dev.edge, {
    app: 'fleetpipe',
    stage: 'dev',
    production: false,
    functionArn: SWEEP_ARN,
    functionRoleName: 'fleetpipe-dev-SweepRole',
  })
  await Promise.all(resourcesIn(sweep).map((r) => value(r.urn)))
})

describe('the heartbeat sweep schedule', () => {
  it('invokes the sweep function once a minute, on time, with bounded retries', async () => {
    expect(await value(sweep.schedule.scheduleExpression)).toBe('rate(1 minute)')
    expect(await value(sweep.schedule.flexibleTimeWindow)).toEqual({ mode: 'OFF' })
    const target = await value(sweep.schedule.target)
    expect(target).toMatchObject({
      arn: SWEEP_ARN,
      roleArn: await value(sweep.role.arn),
      retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 120 },
    })
  })

  it('lets the scheduler invoke that function only, and only for this account', async () => {
    expect(await statementsOf(sweep.invoke.policy)).toEqual([
      { Sid: 'InvokeSweep', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [SWEEP_ARN] },
    ])
    const [trust] = await statementsOf(sweep.role.assumeRolePolicy)
    expect(trust).toMatchObject({
      Principal: { Service: 'scheduler.amazonaws.com' },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
    })
  })

  it('gives the function the state table (with Scan), the alert topic and command topics, nothing else', async () => {
    const statements = await statementsOf(sweep.policy.policy)
    expect(statements.map((s) => [s.Sid, s.Action, s.Resource])).toEqual([
      [
        'SweepDeviceState',
        ['dynamodb:Scan', 'dynamodb:BatchGetItem', 'dynamodb:PutItem'],
        [await value(dev.edge.state.arn)],
      ],
      ['PublishAlerts', ['sns:Publish'], [await value(dev.edge.alerts.arn)]],
      ['PublishDeviceCommands', ['iot:Publish'], [`arn:aws:iot:${REGION}:${ACCOUNT}:topic/fleet/*/commands`]],
    ])
    expect(await value(sweep.policy.role)).toBe('fleetpipe-dev-SweepRole')
  })
})
