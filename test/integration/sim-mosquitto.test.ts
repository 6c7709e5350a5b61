/**
 * The simulated firmware against the machine's Mosquitto (127.0.0.1:1883, as in CI): the outbox
 * replays in order across a lost connection, the last will fires on an abrupt drop, commands are
 * acknowledged and acted on, and the duty cycle and batching send what the wire format expects.
 */
import { randomBytes } from 'node:crypto'
import { type AddressInfo, createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { BatchedReadingSchema, StatusSchema, TelemetryBatchSchema, TelemetrySchema } from '@fleetpipe/core'
import { startFleet } from '@fleetpipe/firmware-sim'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { expectEverySeqInOrder } from '../support/seqs.ts'

const MOSQUITTO = process.env.FLEETPIPE_TEST_BROKER_URL ?? 'mqtt://127.0.0.1:1883'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Seen {
  topic: string
  body: Record<string, unknown>
}

/**
 * Records everything live (not retained) these devices publish. Subscribed per device: a wildcard
 * on a shared broker brings every retained status ever left there, and Mosquitto drops live
 * messages once a client's queue (1,000 by default) overflows.
 */
async function observe(prefix: string, deviceIds: string[]) {
  const client = await mqtt.connectAsync(MOSQUITTO, { clientId: `obs-${prefix}` })
  const seen: Seen[] = []
  client.on('message', (topic, payload, packet) => {
    if (packet.retain || payload.length === 0) return
    seen.push({ topic, body: JSON.parse(payload.toString()) })
  })
  const channels = ['telemetry', 'status', 'acks']
  await client.subscribeAsync(
    deviceIds.flatMap((id) => channels.map((channel) => `fleet/${prefix}${id}/${channel}`)),
    { qos: 1 },
  )
  const of = (deviceId: string, channel: string) =>
    seen.filter((s) => s.topic === `fleet/${deviceId}/${channel}`).map((s) => s.body)
  return { client, seen, of }
}

/** A TCP hop between devices and Mosquitto that can be cut (every connection reset) and restored. */
async function cuttableLink(): Promise<{
  url: string
  cut(): void
  restore(): void
  close(): Promise<void>
}> {
  const target = new URL(MOSQUITTO)
  const sockets = new Set<Socket>()
  let up = true
  const server: Server = createServer((inbound) => {
    if (!up) return inbound.destroy()
    const outbound = tcpConnect(Number(target.port || 1883), target.hostname)
    for (const s of [inbound, outbound]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        inbound.destroy()
        outbound.destroy()
      })
    }
    inbound.pipe(outbound)
    outbound.pipe(inbound)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `mqtt://127.0.0.1:${port}`,
    cut() {
      up = false
      for (const s of sockets) s.destroy()
    },
    restore() {
      up = true
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** Clears the retained statuses the devices left, so the shared broker does not fill up with them. */
async function forget(client: MqttClient, deviceIds: string[]) {
  await Promise.all(
    deviceIds.map((id) => client.publishAsync(`fleet/${id}/status`, '', { qos: 1, retain: true })),
  )
}

let cloud: MqttClient
beforeAll(async () => {
  cloud = await mqtt.connectAsync(MOSQUITTO, { clientId: `cloud-${randomBytes(3).toString('hex')}` })
})
afterAll(() => cloud.endAsync())

const prefix = () => `s${randomBytes(3).toString('hex')}-`

describe('simulated firmware against Mosquitto', () => {
  it('keeps publishing into its outbox while cut off, and replays it in order on reconnect: no seq lost', async () => {
    const idPrefix = prefix()
    const observer = await observe(idPrefix, ['0001', '0002', '0003'])
    const link = await cuttableLink()
    const fleet = await startFleet({
      brokerUrl: link.url,
      devices: 3,
      rateHz: 10,
      seed: 4,
      idPrefix,
      anomalyChance: 0,
    })
    await sleep(500)
    link.cut()
    await vi.waitFor(() => expect(fleet.stats().connected).toBe(0))
    // Long enough for several readings per device to wait in the outbox, short of its 30 s expiry.
    await sleep(1_500)
    link.restore()
    await vi.waitFor(() => expect(fleet.stats().connected).toBe(3), { timeout: 15_000 })
    await sleep(300)
    await fleet.stop()
    const stats = fleet.stats()
    expect(stats).toMatchObject({ failed: 0, dropped: 0, expired: 0 })
    expect(stats.acked).toBe(stats.published)
    expect(stats.reconnects).toBeGreaterThanOrEqual(3)

    await vi.waitFor(() => {
      const telemetry = fleet.deviceIds.flatMap((id) => observer.of(id, 'telemetry'))
      expect(new Set(telemetry.map((t) => `${t.deviceId}/${t.seq}`)).size).toBe(stats.published)
    })
    expectEverySeqInOrder(
      fleet.deviceIds.map((id) => observer.of(id, 'telemetry').map((t) => TelemetrySchema.parse(t).seq)),
      stats.replayed ?? 0,
    )
    for (const deviceId of fleet.deviceIds) {
      // The cut dropped the connection without DISCONNECT: the will said offline, then a new birth.
      const states = observer.of(deviceId, 'status').map((s) => StatusSchema.parse(s))
      expect(states.map((s) => s.state)).toEqual(['online', 'offline', 'online', 'offline'])
      expect(states[1]?.ts).toBeUndefined()
    }
    await forget(observer.client, fleet.deviceIds)
    await observer.client.endAsync()
    await link.close()
  })

  it('acknowledges commands on fleet/{id}/acks, acts on set-interval, and reboots into a new boot at seq 0', async () => {
    const idPrefix = prefix()
    const observer = await observe(idPrefix, ['0001', '0002'])
    const fleet = await startFleet({
      brokerUrl: MOSQUITTO,
      devices: 2,
      rateHz: 5,
      seed: 5,
      idPrefix,
      anomalyChance: 0,
    })
    const [first, second] = fleet.deviceIds as [string, string]
    const send = (deviceId: string, body: object) =>
      cloud.publishAsync(`fleet/${deviceId}/commands`, JSON.stringify({ deviceId, ...body }), { qos: 1 })
    await vi.waitFor(() => expect(observer.of(first, 'telemetry').length).toBeGreaterThan(0))
    const bootBefore = TelemetrySchema.parse(observer.of(first, 'telemetry')[0]).boot
    await send(first, { id: 'r1', command: 'reboot' })
    await send(second, { id: 'i1', command: 'set-interval', args: { seconds: 0.05 } })
    await send(second, { id: 'i2', command: 'set-interval', args: { seconds: -1 } })
    await send(second, { id: 'x1', command: 'self-destruct' })

    await vi.waitFor(
      () => {
        const after = observer.of(first, 'telemetry').filter((t) => t.boot !== bootBefore)
        expect(after.length).toBeGreaterThan(2)
      },
      { timeout: 10_000 },
    )
    await fleet.stop()
    expect(observer.of(first, 'acks')).toEqual([
      expect.objectContaining({
        v: 1,
        deviceId: first,
        id: 'r1',
        command: 'reboot',
        outcome: 'applied',
        boot: bootBefore,
      }),
    ])
    expect(observer.of(second, 'acks').map((a) => [a.id, a.outcome])).toEqual([
      ['i1', 'applied'],
      ['i2', 'rejected'],
      ['x1', 'unknown'],
    ])
    const readings = observer.of(first, 'telemetry').map((t) => TelemetrySchema.parse(t))
    const rebooted = readings.filter((r) => r.boot !== bootBefore)
    expect(rebooted.map((r) => r.seq)).toEqual(rebooted.map((_, i) => i))
    const states = observer.of(first, 'status').map((s) => StatusSchema.parse(s))
    expect(states.map((s) => `${s.state}${s.ts === undefined ? ' (will)' : ''}`)).toEqual([
      'online',
      'offline (will)',
      'online',
      'offline',
    ])
    expect(states[2]?.boot).toBe(rebooted[0]?.boot)
    // At 20 Hz instead of 5 Hz, the second device sent more after the command than the first did.
    expect(observer.of(second, 'telemetry').length).toBeGreaterThan(readings.length)
    await forget(observer.client, fleet.deviceIds)
    await observer.client.endAsync()
  })

  it('duty cycle with batching: wakes, sends a batch, drops without DISCONNECT (the will fires), sleeps', async () => {
    const idPrefix = prefix()
    const observer = await observe(idPrefix, ['env-0001', 'pwr-0001'])
    const fleet = await startFleet({
      brokerUrl: MOSQUITTO,
      devices: 2,
      rateHz: 10,
      seed: 6,
      idPrefix,
      anomalyChance: 0,
      batch: 5,
      sleep: true,
      types: 'env:1,power:1',
    })
    expect(fleet.deviceIds).toEqual([`${idPrefix}env-0001`, `${idPrefix}pwr-0001`])
    await vi.waitFor(
      () => {
        for (const id of fleet.deviceIds)
          expect(observer.of(id, 'telemetry').length).toBeGreaterThanOrEqual(3)
      },
      { timeout: 10_000 },
    )
    await fleet.stop()
    const stats = fleet.stats()
    expect(stats.acked).toBe(stats.published)
    for (const deviceId of fleet.deviceIds) {
      const batches = observer.of(deviceId, 'telemetry').map((t) => TelemetryBatchSchema.parse(t))
      const seqs = batches.flatMap((b) => b.readings.map((r) => BatchedReadingSchema.parse(r).seq))
      expect(seqs).toEqual(seqs.map((_, i) => i))
      expect(batches.slice(0, -1).every((b) => b.readings.length === 5)).toBe(true)
      const states = observer.of(deviceId, 'status').map((s) => StatusSchema.parse(s))
      // Each wake: online, then the will when the connection drops.
      const wills = states.filter((s) => s.state === 'offline' && s.ts === undefined)
      expect(wills.length).toBeGreaterThanOrEqual(batches.length - 1)
    }
    await forget(observer.client, fleet.deviceIds)
    await observer.client.endAsync()
  })
})
