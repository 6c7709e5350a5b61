import { type AddressInfo, createServer } from 'node:net'
import { type Status, StatusSchema, TelemetrySchema } from '@fleetpipe/core'
import { connectDevice, startFleet } from '@fleetpipe/firmware-sim'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type TestBroker, testBroker } from '../support/targets.ts'

let broker: TestBroker
let brokerUrl: string

beforeAll(async () => {
  broker = await testBroker()
  brokerUrl = broker.url
})

afterAll(() => broker.close())

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A separate client recording what the fleet publishes. */
async function observe(clientId: string) {
  const client = await mqtt.connectAsync(brokerUrl, { clientId })
  const telemetry = new Map<string, { seq: number; boot: string | undefined }[]>()
  const statuses: Status[] = []
  const invalid: unknown[] = []
  client.on('message', (topic, payload, packet) => {
    // Retained statuses are left over from earlier tests; only live messages count here.
    if (packet.retain) return
    const body: unknown = JSON.parse(payload.toString())
    if (topic.endsWith('/telemetry')) {
      const parsed = TelemetrySchema.safeParse(body)
      if (!parsed.success) return invalid.push(body)
      const list = telemetry.get(parsed.data.deviceId) ?? []
      list.push({ seq: parsed.data.seq, boot: parsed.data.boot })
      telemetry.set(parsed.data.deviceId, list)
    } else {
      const parsed = StatusSchema.safeParse(body)
      if (!parsed.success) return invalid.push(body)
      statuses.push(parsed.data)
    }
  })
  await client.subscribeAsync(['fleet/+/telemetry', 'fleet/+/status'], { qos: 1 })
  const received = () => [...telemetry.values()].reduce((n, list) => n + list.length, 0)
  return { client, telemetry, statuses, invalid, received }
}

async function publishCommand(client: MqttClient, deviceId: string, body: object) {
  await client.publishAsync(`fleet/${deviceId}/commands`, JSON.stringify({ deviceId, ...body }), { qos: 1 })
}

describe('startFleet against an in-process broker', () => {
  it('publishes births, gap-free telemetry and a clean offline for every device', async () => {
    const observer = await observe('observer-telemetry')
    const fleet = await startFleet({ brokerUrl, devices: 5, rateHz: 5, seed: 1 })
    expect(fleet.deviceIds).toEqual(['esp32-0001', 'esp32-0002', 'esp32-0003', 'esp32-0004', 'esp32-0005'])
    expect(fleet.stats().connected).toBe(5)
    await vi.waitFor(() => {
      const online = observer.statuses.filter((s) => s.state === 'online').map((s) => s.deviceId)
      expect(online.sort()).toEqual(fleet.deviceIds)
    })

    await sleep(1_500)
    await fleet.stop()
    const stats = fleet.stats()
    expect(stats).toMatchObject({ devices: 5, connected: 0, failed: 0, dropped: 0 })
    expect(stats.acked).toBe(stats.published)
    // 1.5 s at 5 Hz is 7 or 8 readings per device; a loaded machine may skip a slot or two.
    expect(stats.acked).toBeGreaterThanOrEqual(5 * 5)
    expect(stats.acked).toBeLessThanOrEqual(5 * 9)

    await vi.waitFor(() => {
      expect(observer.received()).toBe(stats.acked)
      const offline = observer.statuses.filter((s) => s.state === 'offline').map((s) => s.deviceId)
      expect(offline.sort()).toEqual(fleet.deviceIds)
    })
    expect(observer.invalid).toEqual([])
    for (const deviceId of fleet.deviceIds) {
      const readings = observer.telemetry.get(deviceId) ?? []
      expect(readings.map((r) => r.seq)).toEqual(readings.map((_, i) => i))
      const statuses = observer.statuses.filter((s) => s.deviceId === deviceId)
      expect(statuses.map((s) => s.state)).toEqual(['online', 'offline'])
      expect(statuses.every((s) => typeof s.ts === 'number' && s.fw === '1.4.2')).toBe(true)
      expect(new Set([...readings.map((r) => r.boot), ...statuses.map((s) => s.boot)]).size).toBe(1)
    }
    await observer.client.endAsync()
  })

  it('acts on safe-mode commands and counts the ones it ignores', async () => {
    const cloud = await mqtt.connectAsync(brokerUrl, { clientId: 'cloud' })
    // Every device overheats from its first reading, so safe-mode has an episode to end.
    const fleet = await startFleet({ brokerUrl, devices: 3, rateHz: 10, seed: 2, anomalyChance: 1 })
    await sleep(300)

    await publishCommand(cloud, 'esp32-0001', { id: 'c1', command: 'safe-mode' })
    await publishCommand(cloud, 'esp32-0001', { id: 'c1', command: 'safe-mode' })
    await publishCommand(cloud, 'esp32-0002', { id: 'c2', command: 'self-destruct' })
    await cloud.publishAsync('fleet/esp32-0003/commands', 'not json', { qos: 1 })
    await vi.waitFor(() => expect(fleet.stats()).toMatchObject({ commands: 4, ignoredCommands: 3 }))
    expect(fleet.labels()).toEqual([
      expect.objectContaining({ deviceId: 'esp32-0001', kind: 'overheat', endedBy: 'safe-mode' }),
    ])

    await fleet.stop()
    const labels = fleet.labels()
    for (const label of labels) expect(label.endTs).toBeGreaterThanOrEqual(label.startTs)
    expect(labels.filter((l) => l.endedBy === 'safe-mode').map((l) => l.deviceId)).toEqual(['esp32-0001'])
    // The others were still overheating when the fleet stopped; esp32-0001 only if a new episode began.
    const stopped = labels.filter((l) => l.endedBy === 'stop').map((l) => l.deviceId)
    expect(stopped).toEqual(expect.arrayContaining(['esp32-0002', 'esp32-0003']))
    await cloud.endAsync()
  })

  it('rejects, naming the broker, when the broker is unreachable', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise<void>((resolve) => closed.close(() => resolve()))

    const url = `mqtt://127.0.0.1:${port}`
    await expect(startFleet({ brokerUrl: url, devices: 3, rateHz: 1 })).rejects.toThrow(url)
  })

  it('leaves a retained offline will, without a timestamp, when a session drops uncleanly', async () => {
    const deviceId = 'esp32-will'
    const link = await connectDevice({
      brokerUrl,
      deviceId,
      boot: 'b00710ad',
      fw: '1.4.2',
      connectTimeoutMs: 2_000,
      reconnectPeriodMs: 60_000,
      onCommand: () => {},
      onError: () => {},
    })
    expect(link.connected).toBe(true)

    // Power lost: the connection dies without a DISCONNECT, so the broker publishes the will.
    link.powerLoss()
    await vi.waitFor(() => expect(link.connected).toBe(false))

    const late = await mqtt.connectAsync(brokerUrl, { clientId: 'late-observer' })
    const retained = new Promise<{ payload: string; retain: boolean }>((resolve) =>
      late.on('message', (_, payload, packet) =>
        resolve({ payload: payload.toString(), retain: packet.retain }),
      ),
    )
    await late.subscribeAsync(`fleet/${deviceId}/status`, { qos: 1 })
    const { payload, retain } = await retained
    expect(retain).toBe(true)
    expect(JSON.parse(payload)).toEqual({ v: 1, deviceId, state: 'offline', boot: 'b00710ad', fw: '1.4.2' })
    await late.endAsync()
  })
})
