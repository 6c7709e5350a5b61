import type * as pulumi from '@pulumi/pulumi'
import { beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT, buildStages, list, REGION, resourcesIn, type Stage, statementsOf, value } from './_mocks.ts'

let dev: Stage
let production: Stage

beforeAll(async () => {
  ;({ dev, production } = await buildStages())
})

const COMMAND_TOPICS = `arn:aws:iot:${REGION}:${ACCOUNT}:topic/fleet/*/commands`
const DEFAULT_BUS = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`

/** Every ARN the stage created. */
async function createdArns(stage: Stage): Promise<Set<string>> {
  const arns = new Set<string>()
  for (const resource of resourcesIn({ edge: stage.edge, ingest: stage.ingest })) {
    const arn = (resource as unknown as { arn?: pulumi.Output<string> }).arn
    if (arn) arns.add(await value(arn))
  }
  return arns
}

/** Every IAM policy the stage wrote: role policies and trust policies. */
async function iamDocuments(stage: Stage) {
  const docs: { name: string; document: pulumi.Output<string> }[] = []
  for (const resource of resourcesIn({ edge: stage.edge, ingest: stage.ingest })) {
    const name = await value(resource.urn)
    if (name.includes('aws:iam/rolePolicy:RolePolicy')) {
      docs.push({ name, document: (resource as unknown as { policy: pulumi.Output<string> }).policy })
    }
    if (name.includes('aws:iam/role:Role')) {
      docs.push({
        name,
        document: (resource as unknown as { assumeRolePolicy: pulumi.Output<string> }).assumeRolePolicy,
      })
    }
  }
  return docs
}

describe('IAM', () => {
  it('names every action: no `*`, no `service:*`, in any policy of any stage', async () => {
    let statements = 0
    for (const stage of [dev, production]) {
      const docs = await iamDocuments(stage)
      // The function's policy, and a role with its policy for each of the rule's two actions.
      expect(docs).toHaveLength(5)
      for (const { name, document } of docs) {
        for (const statement of await statementsOf(document)) {
          statements++
          expect(statement.Effect, name).toBe('Allow')
          const actions = list(statement.Action)
          expect(actions.length, name).toBeGreaterThan(0)
          for (const action of actions) expect(action, name).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/)
        }
      }
    }
    expect(statements).toBe(2 * (10 + 1 + 1 + 1 + 1))
  })

  it('grants on the ARNs this stack created, and `*` only for timestream:DescribeEndpoints', async () => {
    for (const stage of [dev, production]) {
      const created = await createdArns(stage)
      created.add(COMMAND_TOPICS)
      // The account's default bus: every account has it, no stack creates it.
      created.add(DEFAULT_BUS)
      created.add(`${await value(stage.edge.data.bucket.arn)}/quarantine/*`)
      created.add(`${await value(stage.edge.data.bucket.arn)}/models/*`)
      for (const { name, document } of await iamDocuments(stage)) {
        if (name.includes('aws:iam/role:Role')) continue // trust policies name a principal, not resources
        for (const statement of await statementsOf(document)) {
          for (const resource of list(statement.Resource)) {
            if (resource === '*') expect(statement.Action, name).toEqual(['timestream:DescribeEndpoints'])
            else expect(created, `${name}: ${resource}`).toContain(resource)
          }
        }
      }
    }
  })

  it("gives the function one statement per need, on the function's own role", async () => {
    const { policy } = dev.ingest
    expect(await value(policy.role)).toBe(dev.fn.functionRoleName)
    const statements = await statementsOf(policy.policy)
    expect(statements).toEqual([
      {
        Sid: 'ConsumeIngestQueue',
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        Resource: [await value(dev.edge.queues.queue.arn)],
      },
      {
        Sid: 'WriteTelemetry',
        Effect: 'Allow',
        Action: ['timestream:WriteRecords'],
        Resource: [await value(dev.edge.telemetry.table.arn)],
      },
      {
        Sid: 'DiscoverTimestreamEndpoints',
        Effect: 'Allow',
        Action: ['timestream:DescribeEndpoints'],
        Resource: ['*'],
      },
      {
        Sid: 'ReadWriteDeviceState',
        Effect: 'Allow',
        Action: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'],
        Resource: [await value(dev.edge.state.arn)],
      },
      {
        Sid: 'WriteQuarantine',
        Effect: 'Allow',
        Action: ['s3:PutObject'],
        Resource: [`${await value(dev.edge.data.bucket.arn)}/quarantine/*`],
      },
      {
        Sid: 'ReadModels',
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: [`${await value(dev.edge.data.bucket.arn)}/models/*`],
      },
      {
        Sid: 'ListModels',
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: [await value(dev.edge.data.bucket.arn)],
        Condition: { StringLike: { 's3:prefix': 'models/*' } },
      },
      {
        Sid: 'PublishAlerts',
        Effect: 'Allow',
        Action: ['sns:Publish'],
        Resource: [await value(dev.edge.alerts.arn)],
      },
      {
        Sid: 'PublishDeviceCommands',
        Effect: 'Allow',
        Action: ['iot:Publish'],
        Resource: [COMMAND_TOPICS],
      },
      {
        Sid: 'RequestRetraining',
        Effect: 'Allow',
        Action: ['events:PutEvents'],
        Resource: [DEFAULT_BUS],
      },
    ])
    // The DLQ and the rule's error queue are for people, not for the function.
    const granted = statements.flatMap((s) => list(s.Resource))
    expect(granted).not.toContain(await value(dev.edge.queues.deadLetterQueue.arn))
    expect(granted).not.toContain(await value(dev.edge.rule.errorQueue.arn))
  })
})
