import type { SQSEvent } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import { IotRuleEventSchema, projectRuleEvent, RULE_SQL, RULE_SQL_VERSION } from '../src/rule-sql.ts'
import { loadEvent } from './_events.ts'

const ruleFixtures = [
  'valid-reading',
  'batched-readings',
  'invalid-json',
  'spoofed-device',
  'status-online',
].map((name) => `iot-rule/${name}.json`)

describe('the IoT topic rule', () => {
  it('selects the payload verbatim beside its metadata, on SQL version 2016-03-23', () => {
    expect(RULE_SQL).toBe(
      "SELECT encode(*, 'base64') AS payload, topic() AS topic, clientid() AS clientId, timestamp() AS receivedAt " +
        "FROM 'fleet/+/+' WHERE topic(3) = 'telemetry' OR topic(3) = 'status'",
    )
    expect(RULE_SQL_VERSION).toBe('2016-03-23')
  })

  it.each(ruleFixtures)('delivers %s in the shape the schema describes', (path) => {
    expect(IotRuleEventSchema.safeParse(loadEvent(path)).success).toBe(true)
  })

  it('puts the projection in each SQS body, except a body that never came from the rule', () => {
    const bodies = loadEvent<SQSEvent>('sqs/batch-mixed.json').Records.map((r) => JSON.parse(r.body))
    expect(bodies.map((b) => IotRuleEventSchema.safeParse(b).success)).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
    ])
  })

  it('is emulated for local runs: what the rule would deliver for a publish', () => {
    const fixture = IotRuleEventSchema.parse(loadEvent('iot-rule/valid-reading.json'))
    const publish = { ...fixture, payload: Buffer.from(fixture.payload, 'base64') }
    expect(projectRuleEvent(publish)).toEqual(fixture)
    expect(projectRuleEvent({ ...publish, clientId: undefined })?.clientId).toBe('n/a')
    expect(projectRuleEvent({ ...publish, topic: 'fleet/esp32-0001/commands' })).toBeUndefined()
    expect(projectRuleEvent({ ...publish, topic: 'fleet/esp32-0001/telemetry/extra' })).toBeUndefined()
    expect(projectRuleEvent({ ...publish, payload: 'not json' })?.payload).toBe('bm90IGpzb24=')
  })
})
