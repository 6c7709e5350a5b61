import { TransientError } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { createIotRuleHandler } from '../src/iot-rule.ts'
import type { IotRuleEvent } from '../src/rule-sql.ts'
import { loadEvent } from './_events.ts'
import { setup } from './_setup.ts'

function run(input: string | object, failing?: string) {
  const ctx = setup(failing)
  const handler = createIotRuleHandler(ctx.deps, ctx.options)
  const event = typeof input === 'string' ? loadEvent(input) : input
  return { ...ctx, handler, invoke: () => handler(event) }
}

describe('IoT rule handler', () => {
  it('stores a valid reading', async () => {
    const { invoke, store, emf } = run('iot-rule/valid-reading.json')
    expect(await invoke()).toMatchObject({ received: 1, stored: 1, quarantined: 0, failed: 0 })
    expect([...store.rows.values()]).toMatchObject([{ deviceId: 'esp32-0001', seq: 1201, boot: 'b7' }])
    expect(emf).toHaveLength(1)
    expect(emf[0]).toMatchObject({ stage: 'test', received: 1, stored: 1, failed: 0 })
  })

  it('stores each reading of a batched message', async () => {
    const { invoke, store } = run('iot-rule/batched-readings.json')
    expect(await invoke()).toMatchObject({ received: 3, stored: 3 })
    expect([...store.rows.values()].map((r) => r.seq)).toEqual([1202, 1203, 1204])
  })

  it('stores a status message', async () => {
    const { invoke, store } = run('iot-rule/status-online.json')
    expect(await invoke()).toMatchObject({ stored: 1, statuses: 1 })
    expect(store.statuses).toMatchObject([{ deviceId: 'esp32-0001', state: 'online' }])
  })

  it('quarantines a payload that is not JSON with its raw bytes', async () => {
    const { invoke, deps } = run('iot-rule/invalid-json.json')
    const { payload } = loadEvent<IotRuleEvent>('iot-rule/invalid-json.json')
    expect(await invoke()).toMatchObject({ received: 1, quarantined: 1, failed: 0 })
    expect(deps.quarantine.entries).toMatchObject([
      {
        reason: 'invalid_json',
        topic: 'fleet/esp32-0003/telemetry',
        deviceId: 'esp32-0003',
        source: 'aws-iot',
        raw: Buffer.from(payload, 'base64').toString('utf8'),
        rawEncoding: 'utf8',
      },
    ])
  })

  it('quarantines a device publishing as another', async () => {
    const { invoke, deps } = run('iot-rule/spoofed-device.json')
    expect(await invoke()).toMatchObject({ quarantined: 1, stored: 0 })
    expect(deps.quarantine.entries).toMatchObject([
      { reason: 'device_mismatch', path: 'deviceId', deviceId: 'esp32-0004' },
    ])
  })

  it('holds the payload to the client id, and ignores the `n/a` of a publish without MQTT', async () => {
    const event = loadEvent<IotRuleEvent>('iot-rule/valid-reading.json')
    const impostor = run({ ...event, clientId: 'esp32-0009' })
    expect(await impostor.invoke()).toMatchObject({ quarantined: 1 })
    expect(impostor.deps.quarantine.entries[0]?.reason).toBe('device_mismatch')

    const overHttps = run({ ...event, clientId: 'n/a' })
    expect(await overHttps.invoke()).toMatchObject({ stored: 1 })
  })

  it('quarantines an event that is not the rule projection as unknown_topic, and logs where', async () => {
    const foreign = { temperature: 21, topic: 'fleet/esp32-0001/telemetry' }
    const { invoke, deps, warn } = run(foreign)
    expect(await invoke()).toMatchObject({ received: 1, quarantined: 1 })
    expect(deps.quarantine.entries).toMatchObject([
      { reason: 'unknown_topic', topic: '', raw: JSON.stringify(foreign), rawEncoding: 'utf8' },
    ])
    expect(warn).toHaveBeenCalledWith(
      'event is not the IoT rule projection, quarantining it',
      expect.objectContaining({ path: 'payload' }),
    )
  })

  it('throws on a transient failure so Lambda retries, and stores once when the retry succeeds', async () => {
    const { invoke, store, emf } = run('iot-rule/valid-reading.json', 'esp32-0001')
    await expect(invoke()).rejects.toThrow(TransientError)
    expect(emf[0]).toMatchObject({ failed: 1 })
    store.failing = undefined
    expect(await invoke()).toMatchObject({ stored: 1, failed: 0 })
    expect(store.rows.size).toBe(1)
  })
})
