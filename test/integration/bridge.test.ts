import { type InboundMessage, type IngestResult, TransientError } from '@fleetpipe/core'
import { MemoryCommandPublisher } from '@fleetpipe/core/memory'
import { Bridge, localIngest } from '@fleetpipe/local'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { overTemperature } from '../../packages/core/test/_fixtures.ts'
import {
  type TestBroker,
  type TestDatabase,
  testBroker,
  testDatabase,
  uniquePrefix,
} from '../support/targets.ts'

const rules = overTemperature

let broker: TestBroker
let database: TestDatabase
let device: MqttClient
let prefix: string
const bridges: Bridge[] = []

beforeAll(async () => {
  broker = await testBroker()
})
afterAll(() => broker.close())

beforeEach(async () => {
  database = await testDatabase()
  prefix = uniquePrefix()
  device = await mqtt.connectAsync(broker.url, { clientId: `${prefix}publisher` })
})

afterEach(async () => {
  await device.endAsync()
  for (const bridge of bridges.splice(0)) await bridge.stop().catch(() => {})
  await database.close()
})

async function startBridge(
  options: { clientId?: string; ingest?: (m: InboundMessage[]) => Promise<IngestResult> } = {},
) {
  const bridge = await Bridge.connect({
    brokerUrl: broker.url,
    clientId: options.clientId ?? `${prefix}bridge`,
    batchSize: 100,
    flushMs: 10,
  })
  bridges.push(bridge)
  await bridge.listen(options.ingest ?? pipeline())
  return bridge
}

function pipeline() {
  return localIngest(database.db, { rules, maxAgeMs: 86_400_000, commands: new MemoryCommandPublisher() })
}

function publish(id: string, body: unknown, channel = 'telemetry') {
  const payload = typeof body === 'string' ? body : JSON.stringify(body)
  return device.publishAsync(`fleet/${id}/${channel}`, payload, { qos: 1 })
}

const start = Date.now() - 60_000
const reading = (id: string, seq: number, temperature = 21) => ({
  v: 1,
  deviceId: id,
  ts: start + seq * 1_000,
  seq,
  boot: 'b1',
  metrics: { temperature },
})

describe('bridge: broker → ingest → store', () => {
  it('stores valid readings, quarantines the rest with reasons, and counts every record', async () => {
    const bridge = await startBridge()
    const a = `${prefix}a`
    const b = `${prefix}b`
    await publish(a, reading(a, 1))
    await publish(a, reading(a, 2))
    await publish(a, reading(a, 2))
    await publish(a, '{"v":1,')
    await publish(a, reading(b, 3))
    await publish(b, { v: 1, deviceId: b, state: 'online' }, 'status')

    await vi.waitFor(() => expect(bridge.counts.received).toBe(6))
    expect(bridge.counts).toMatchObject({ stored: 3, statuses: 1, duplicates: 1, quarantined: 2, failed: 0 })
    expect((await database.db.queries.latest(a)).map((r) => r.seq)).toEqual([2])
    const refused = await database.db.quarantine.list({ deviceId: a })
    expect(refused.map((e) => e.reason).sort()).toEqual(['device_mismatch', 'invalid_json'])
  })

  it('opens an alert from readings arriving over MQTT', async () => {
    const bridge = await startBridge()
    const a = `${prefix}hot`
    for (const [seq, t] of [
      [1, 70],
      [2, 85],
      [3, 90],
    ] as const) {
      await publish(a, reading(a, seq, t))
    }
    await vi.waitFor(() => expect(bridge.counts.stored).toBe(3))
    expect(await database.db.queries.alerts({ deviceId: a, state: 'open' })).toHaveLength(1)
  })

  it('acknowledges only after commit: a bridge that dies mid-batch loses nothing', async () => {
    const clientId = `${prefix}crashy`
    let arrived = 0
    // A store that never answers: the batch is received but never committed.
    const crashing = await startBridge({
      clientId,
      ingest: (messages) => {
        arrived += messages.length
        return new Promise<IngestResult>(() => {})
      },
    })
    const a = `${prefix}c`
    for (let seq = 1; seq <= 5; seq++) await publish(a, reading(a, seq))
    await vi.waitFor(() => expect(arrived).toBe(5))

    // The process dies: the connection drops without the batch ever committing.
    bridges.splice(bridges.indexOf(crashing), 1)
    crashing.client.stream.destroy()
    crashing.client.end(true)

    // The same bridge identity comes back; the broker redelivers what was never acknowledged.
    const restarted = await startBridge({ clientId })
    await vi.waitFor(() => expect(restarted.counts.stored).toBe(5))
    expect((await database.db.queries.counts()).readings).toBe(5)
  })

  it('retries transient failures and settles every record', async () => {
    const ingest = pipeline()
    let failures = 2
    const bridge = await startBridge({
      ingest: async (messages) => {
        if (failures-- > 0) throw new TransientError('database restarting')
        return ingest(messages)
      },
    })
    const a = `${prefix}r`
    await publish(a, reading(a, 1))
    await publish(a, '{"not":"valid"}')
    await vi.waitFor(() => expect(bridge.counts.received).toBe(2))
    expect(bridge.counts).toMatchObject({ stored: 1, quarantined: 1, failed: 0 })
    expect(bridge.counts.retries).toBeGreaterThanOrEqual(1)
  })
})
