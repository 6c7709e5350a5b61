import { beforeAll, describe, expect, it } from 'vitest'
import { RULE_SQL, RULE_SQL_VERSION } from '../../../functions/aws/src/rule-sql.ts'
import { ruleName } from '../topic-rule.ts'
import { ACCOUNT, buildStages, REGION, type Stage, statementsOf, value } from './_mocks.ts'

let dev: Stage

beforeAll(async () => {
  ;({ dev } = await buildStages())
})

describe('the ingest topic rule', () => {
  it('runs the SQL defined once in functions/aws, on SQL version 2016-03-23, enabled', async () => {
    const { rule } = dev.edge.rule
    expect(await value(rule.sql)).toBe(RULE_SQL)
    expect(await value(rule.sql)).toContain("FROM 'fleet/+/+'")
    expect(await value(rule.sqlVersion)).toBe('2016-03-23')
    expect(RULE_SQL_VERSION).toBe('2016-03-23')
    expect(await value(rule.enabled)).toBe(true)
  })

  it('is named from the stage with only [a-zA-Z0-9_]', async () => {
    expect(await value(dev.edge.rule.rule.name)).toBe('fleetpipe_dev_ingest')
    expect(ruleName({ app: 'fleet-pipe', stage: 'pr-12.x' })).toBe('fleet_pipe_pr_12_x_ingest')
  })

  it('queues each message on the ingest queue as JSON, through a role that may only send to it', async () => {
    const { rule, action } = dev.edge.rule
    const { queue } = dev.edge.queues
    const sqs = await value(rule.sqs)
    expect(sqs).toEqual([
      {
        queueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/fleetpipe-dev-ingest`,
        roleArn: await value(action.role.arn),
        useBase64: false,
      },
    ])
    expect(sqs?.[0]?.queueUrl).toBe(await value(queue.url))
    expect(await statementsOf(action.policy.policy)).toEqual([
      {
        Sid: 'QueueForIngest',
        Effect: 'Allow',
        Action: ['sqs:SendMessage'],
        Resource: [await value(queue.arn)],
      },
    ])
    expect(await value(action.policy.role)).toBe(await value(action.role.name))
    // No other action of any kind.
    for (const key of ['lambdas', 'kineses', 'republishes', 'https', 'sns', 'dynamodbs'] as const) {
      expect(await value<unknown>(rule[key])).toBeUndefined()
    }
  })

  it('keeps what the action could not deliver on an error queue, with a role of its own', async () => {
    const { rule, action, errorAction, errorQueue } = dev.edge.rule
    const onError = await value(rule.errorAction)
    expect(onError?.sqs).toEqual({
      queueUrl: await value(errorQueue.url),
      roleArn: await value(errorAction.role.arn),
      useBase64: false,
    })
    expect(await value(errorAction.role.arn)).not.toBe(await value(action.role.arn))
    expect(await value(errorQueue.url)).not.toBe(await value(dev.edge.queues.queue.url))
    expect(await statementsOf(errorAction.policy.policy)).toEqual([
      {
        Sid: 'KeepRuleErrors',
        Effect: 'Allow',
        Action: ['sqs:SendMessage'],
        Resource: [await value(errorQueue.arn)],
      },
    ])
    expect(await value(errorQueue.messageRetentionSeconds)).toBe(14 * 24 * 60 * 60)
  })

  it("lets only IoT assume the roles, and only for this account's rule", async () => {
    const ruleArn = `arn:aws:iot:${REGION}:${ACCOUNT}:rule/fleetpipe_dev_ingest`
    expect(await value(dev.edge.rule.ruleArn)).toBe(ruleArn)
    for (const { role } of [dev.edge.rule.action, dev.edge.rule.errorAction]) {
      expect(await statementsOf(role.assumeRolePolicy)).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'iot.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: {
            StringEquals: { 'aws:SourceAccount': ACCOUNT },
            ArnEquals: { 'aws:SourceArn': ruleArn },
          },
        },
      ])
    }
  })
})
