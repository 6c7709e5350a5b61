import { describe, expect, it } from 'vitest'
import { ingest, parseRules, STALE_OUTBOX_MS, sweep, sweepFleet } from '../src/index.ts'
import { ManualClock, memoryDeps } from '../src/memory.ts'
import { message, NOW, reading } from './_fixtures.ts'

const MINUTE = 60_000
const rules = parseRules([
  { id: 'silent', kind: 'heartbeat', after: '5m', severity: 'warning', command: { name: 'reboot' } },
])

function setup() {
  const clock = new ManualClock(NOW)
  const deps = memoryDeps(clock)
  const telemetry = (deviceId: string, ts: number, seq: number) =>
    ingest([message(reading({ deviceId, ts, seq }))], deps, { rules })
  const status = (deviceId: string, state: 'online' | 'offline', ts: number) =>
    ingest([message({ v: 1, deviceId, state, ts }, { topic: `fleet/${deviceId}/status` })], deps, { rules })
  return { clock, deps, telemetry, status }
}

describe('missing heartbeat', () => {
  it('opens on the sweep once a device has been silent for `after`, and clears on its next reading', async () => {
    const { clock, deps, telemetry } = setup()
    await telemetry('d1', NOW, 1)
    await telemetry('d2', NOW, 1)

    clock.set(NOW + 4 * MINUTE)
    await telemetry('d2', NOW + 4 * MINUTE, 2)
    expect(await sweep(deps, { rules }, ['d1', 'd2'])).toEqual([])

    clock.set(NOW + 5 * MINUTE)
    const opened = await sweep(deps, { rules }, ['d1', 'd2'])
    expect(opened.map((t) => [t.type, t.alert.deviceId, t.at])).toEqual([['opened', 'd1', NOW + 5 * MINUTE]])
    expect(opened[0]?.message).toBe('no telemetry for 5m (expected within 5m)')
    expect(opened[0]?.command?.command).toBe('reboot')

    // Sweeping again changes nothing: the alert is open.
    clock.set(NOW + 6 * MINUTE)
    expect(await sweep(deps, { rules }, ['d1', 'd2'])).toEqual([])

    const back = await telemetry('d1', NOW + 6 * MINUTE, 2)
    expect(back.transitions.map((t) => [t.type, t.message])).toEqual([
      ['cleared', 'the device is heard from again'],
    ])
  })

  it('opens at once on a last will and clears on the birth message', async () => {
    const { status, telemetry, deps } = setup()
    await telemetry('d1', NOW - MINUTE, 1)
    const offline = await status('d1', 'offline', NOW)
    expect(offline.transitions.map((t) => [t.type, t.message])).toEqual([
      ['opened', 'the device went offline (last will)'],
    ])
    // A redelivered last will opens nothing more.
    expect((await status('d1', 'offline', NOW)).transitions).toEqual([])
    const online = await status('d1', 'online', NOW + MINUTE)
    expect(online.transitions.map((t) => [t.type, t.message])).toEqual([
      ['cleared', 'the device is back online'],
    ])
    expect(deps.alerts.transitions.map((t) => t.type)).toEqual(['opened', 'cleared'])
  })

  it('sweeps every device the state store knows, and never a device it has not heard from', async () => {
    const { clock, deps, telemetry } = setup()
    await telemetry('d1', NOW, 1)
    await telemetry('d2', NOW, 1)
    clock.set(NOW + 10 * MINUTE)
    const opened = await sweepFleet(deps, { rules })
    expect(opened.map((t) => t.alert.deviceId).sort()).toEqual(['d1', 'd2'])
    expect(await sweep(deps, { rules }, ['never-seen'])).toEqual([])
  })

  it('delivers on the sweep what an invocation that failed to deliver left in an outbox', async () => {
    const { clock, deps, telemetry } = setup()
    const publish = deps.alerts.publish.bind(deps.alerts)
    deps.alerts.publish = async () => {
      throw new Error('sink down')
    }
    await telemetry('d1', NOW, 1)
    clock.set(NOW + 5 * MINUTE)
    await expect(sweep(deps, { rules }, ['d1'])).rejects.toThrow('sink down')
    expect(deps.alerts.transitions).toEqual([])

    deps.alerts.publish = publish
    clock.set(NOW + 5 * MINUTE + STALE_OUTBOX_MS)
    const delivered = await sweep(deps, { rules }, ['d1'])
    expect(delivered.map((t) => t.type)).toEqual(['opened'])
    expect(await sweep(deps, { rules }, ['d1'])).toEqual([])
  })
})
