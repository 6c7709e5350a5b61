/**
 * The embedded broker stopped and started again on the same port, under a publishing fleet: the
 * devices keep their readings in their outboxes while it is down and replay them, in order, once
 * they reconnect. Always the embedded broker (aedes), whichever broker the other tests use: this
 * test has to restart it.
 */
import { TelemetrySchema } from '@fleetpipe/core'
import { startFleet } from '@fleetpipe/firmware-sim'
import { startBroker } from '@fleetpipe/local'
import mqtt from 'mqtt'
import { describe, expect, it, vi } from 'vitest'
import { expectEverySeqInOrder } from '../support/seqs.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('the embedded broker restarting under a fleet', () => {
  it('loses no reading: every seq arrives, in order, repeats only as marked retransmissions', async () => {
    let broker = await startBroker({ port: 0 })
    const { port, url } = broker
    // Reconnects quickly, so it is subscribed again before the devices' first retry (≥ 500 ms).
    const observer = await mqtt.connectAsync(url, { clientId: 'observer', reconnectPeriod: 50 })
    const seqs = new Map<string, number[]>()
    observer.on('message', (_topic, payload) => {
      const reading = TelemetrySchema.parse(JSON.parse(payload.toString()))
      seqs.set(reading.deviceId, [...(seqs.get(reading.deviceId) ?? []), reading.seq])
    })
    await observer.subscribeAsync('fleet/+/telemetry', { qos: 1 })
    const distinct = () => [...seqs.values()].reduce((n, list) => n + new Set(list).size, 0)
    const fleet = await startFleet({ brokerUrl: url, devices: 3, rateHz: 10, seed: 7, anomalyChance: 0 })

    await sleep(500)
    // As `fleetpipe dev` stops it: devices cut off first, so what the broker acknowledged reaches
    // the observer before the broker goes (an in-memory broker loses what it holds when it stops).
    await broker.closeAllBut('observer')
    await vi.waitFor(() => expect(distinct()).toBe(fleet.stats().acked))
    await broker.close()
    await vi.waitFor(() => expect(fleet.stats().connected).toBe(0))
    // Several readings per device wait in the outboxes, well short of their 30 s expiry.
    await sleep(1_500)
    const waiting = fleet.stats().inFlight ?? 0
    broker = await startBroker({ port })
    await vi.waitFor(() => expect(observer.connected).toBe(true))
    await vi.waitFor(() => expect(fleet.stats().connected).toBe(3), { timeout: 15_000 })
    await sleep(300)
    await fleet.stop()

    const stats = fleet.stats()
    expect(stats).toMatchObject({ failed: 0, dropped: 0, expired: 0 })
    expect(stats.acked).toBe(stats.published)
    expect(stats.reconnects).toBeGreaterThanOrEqual(3)
    // About 15 readings a device taken while the broker was down, all delivered below.
    expect(waiting).toBeGreaterThanOrEqual(30)
    await vi.waitFor(() => expect(distinct()).toBe(stats.published))
    // A repeat is a publish in flight when the broker went away, sent again with DUP.
    expectEverySeqInOrder(
      fleet.deviceIds.map((id) => seqs.get(id) ?? []),
      stats.replayed ?? 0,
    )
    await observer.endAsync()
    await broker.close()
  })
})
