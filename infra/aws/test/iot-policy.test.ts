import { beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT, buildStages, list, REGION, type Stage, statementsOf, value } from './_mocks.ts'

let dev: Stage

beforeAll(async () => {
  ;({ dev } = await buildStages())
})

const iot = (resource: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:${resource}`
// What IoT must receive literally, to substitute the connecting thing's name itself.
const THING = '$' + '{iot:Connection.Thing.ThingName}'

describe('the device policy', () => {
  it('lets a thing connect as itself, publish its own telemetry and status, and get its own commands', async () => {
    expect(await value(dev.edge.devicePolicy.name)).toBe('fleetpipe-dev-device')
    expect(await statementsOf(dev.edge.devicePolicy.policy)).toEqual([
      {
        Effect: 'Allow',
        Action: ['iot:Connect'],
        Resource: [iot(`client/${THING}`)],
        Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
      },
      {
        Effect: 'Allow',
        Action: ['iot:Publish'],
        Resource: [iot(`topic/fleet/${THING}/telemetry`), iot(`topic/fleet/${THING}/status`)],
      },
      {
        Effect: 'Allow',
        Action: ['iot:RetainPublish'],
        Resource: [iot(`topic/fleet/${THING}/status`)],
      },
      {
        Effect: 'Allow',
        Action: ['iot:Subscribe'],
        Resource: [iot(`topicfilter/fleet/${THING}/commands`)],
      },
      {
        Effect: 'Allow',
        Action: ['iot:Receive'],
        Resource: [iot(`topic/fleet/${THING}/commands`)],
      },
    ])
  })

  it('has no wildcard, no other device, and no other action anywhere', async () => {
    const json = await value(dev.edge.devicePolicy.policy)
    // The variable reaches IoT as text, not interpolated away.
    expect(json).toContain(`"arn:aws:iot:${REGION}:${ACCOUNT}:client/${THING}"`)
    const statements = await statementsOf(dev.edge.devicePolicy.policy)
    const actions = statements.flatMap((s) => list(s.Action)).sort()
    expect(actions).toEqual([
      'iot:Connect',
      'iot:Publish',
      'iot:Receive',
      'iot:RetainPublish',
      'iot:Subscribe',
    ])
    for (const resource of statements.flatMap((s) => list(s.Resource))) {
      expect(resource).not.toMatch(/[*+#]/)
      expect(resource).toContain(THING)
    }
  })
})
