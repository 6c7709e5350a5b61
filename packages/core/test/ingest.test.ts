import { describe, expect, it } from 'vitest'
import {
  type DeviceState,
  ingest,
  parseRules,
  TransientError,
  WINDOW,
  type WriteOutcome,
} from '../src/index.ts'
import { ManualClock, MemoryStateStore, memoryDeps } from '../src/memory.ts'
import { message, NOW, overTemperature, racingLoads, reading } from './_fixtures.ts'

const rules = overTemperature

function setup() {
  const deps = memoryDeps(new ManualClock(NOW))
  return {
    deps,
    run: (bodies: unknown[]) =>
      ingest(
        bodies.map((b) => message(b)),
        deps,
        { rules },
      ),
  }
}

const temp = (seq: number, temperature: number, extra: object = {}) =>
  reading({ seq, ts: NOW - 60_000 + seq * 1_000, metrics: { temperature }, ...extra })

describe('ingest outcomes', () => {
  it('gives every record one outcome and counts that add up', async () => {
    const { deps, run } = setup()
    const result = await run([temp(1, 20), temp(2, 21), '{"oops"', temp(2, 21), reading({ deviceId: 'x y' })])
    expect(result.records.map((r) => r.outcome)).toEqual([
      'stored',
      'stored',
      'quarantined',
      'duplicate',
      'quarantined',
    ])
    expect(result.counts).toMatchObject({ received: 5, stored: 2, duplicates: 1, quarantined: 2, failed: 0 })
    expect(deps.store.rows.size).toBe(2)
    expect(deps.quarantine.entries.map((e) => e.reason)).toEqual(['invalid_json', 'schema'])
  })

  it('stores a redelivered message once, across batches', async () => {
    const { deps, run } = setup()
    await run([temp(1, 20)])
    const again = await run([temp(1, 20)])
    expect(again.counts).toMatchObject({ received: 1, stored: 0, duplicates: 1 })
    expect(deps.store.rows.size).toBe(1)
  })

  it('does not take a rebooted device restarting its seq for duplicates', async () => {
    const { deps, run } = setup()
    await run([temp(1, 20, { boot: 'a' }), temp(2, 20, { boot: 'a' })])
    const afterReboot = await run([temp(1, 20, { boot: 'b' })])
    expect(afterReboot.counts.stored).toBe(1)
    // Without a boot id, the device time tells a new reading from a redelivery.
    const noBoot = await run([reading({ seq: 1, ts: NOW - 500, metrics: { temperature: 20 } })])
    expect(noBoot.counts.stored).toBe(1)
    expect(deps.store.rows.size).toBe(4)
  })

  it('asks the store about a redelivery older than the dedupe window', async () => {
    const { deps, run } = setup()
    const old = reading({ seq: 1, ts: NOW - 600_000, metrics: { temperature: 20 } })
    await run([old])
    await run(
      Array.from({ length: WINDOW + 5 }, (_, i) =>
        reading({ seq: 2 + i, ts: NOW - 500_000 + i, metrics: { t: 1 } }),
      ),
    )
    const asked: number[] = []
    const has = deps.store.has.bind(deps.store)
    deps.store.has = async (readings) => {
      asked.push(...readings.map((r) => r.seq))
      return has(readings)
    }
    const again = await run([old])
    expect(asked).toEqual([1])
    expect(again.counts).toMatchObject({ duplicates: 1, stored: 0 })
  })

  it('records status updates as stored and counts them apart', async () => {
    const { deps } = setup()
    const birth = message(
      { v: 1, deviceId: 'esp32-0001', state: 'online', boot: 'a' },
      { topic: 'fleet/esp32-0001/status' },
    )
    const result = await ingest([birth], deps, { rules })
    expect(result.counts).toMatchObject({ received: 1, stored: 1, statuses: 1 })
    expect(deps.store.statuses).toMatchObject([{ deviceId: 'esp32-0001', state: 'online', boot: 'a' }])
  })
})

describe('ingest: threshold rule and alert lifecycle', () => {
  it('opens one alert with its command, holds it through the hysteresis band, clears once', async () => {
    const { deps, run } = setup()
    await run([temp(1, 70), temp(2, 85), temp(3, 90)])
    await run([temp(4, 78), temp(5, 74), temp(6, 72)])
    expect(deps.alerts.transitions.map((t) => [t.type, t.value])).toEqual([
      ['opened', 85],
      ['cleared', 74],
    ])
    const [opened] = deps.alerts.transitions
    expect(opened?.alert).toMatchObject({
      deviceId: 'esp32-0001',
      ruleId: 'over-temperature',
      severity: 'critical',
    })
    expect(deps.commands.sent).toEqual([
      expect.objectContaining({
        deviceId: 'esp32-0001',
        command: 'safe-mode',
        id: `${opened?.alert.id}:safe-mode`,
      }),
    ])
  })

  it('never re-fires on redelivery', async () => {
    const { deps, run } = setup()
    await run([temp(1, 70), temp(2, 85)])
    const again = await run([temp(1, 70), temp(2, 85)])
    expect(again.counts.alerts).toBe(0)
    expect(deps.alerts.transitions).toHaveLength(1)
    expect(deps.commands.sent).toHaveLength(1)
  })

  it('applies readings in device-time order, and older readings do not rewind state', async () => {
    const { deps, run } = setup()
    await run([temp(3, 85), temp(1, 70), temp(2, 74)])
    expect(deps.alerts.transitions.map((t) => t.type)).toEqual(['opened'])
    // A late reading from before the alert opened is stored, but cannot clear it.
    const late = await run([temp(0, 60)])
    expect(late.counts.stored).toBe(1)
    expect(deps.alerts.transitions.map((t) => t.type)).toEqual(['opened'])
  })

  it('keeps alerts per device', async () => {
    const { deps, run } = setup()
    await run([temp(1, 85), temp(1, 85, { deviceId: 'esp32-0002' })])
    expect(deps.alerts.transitions.map((t) => t.alert.deviceId).sort()).toEqual(['esp32-0001', 'esp32-0002'])
  })
})

describe('ingest: failures are per record and retryable', () => {
  it('marks the readings failed when the store fails, and a retry stores them once', async () => {
    const { deps, run } = setup()
    const write = deps.store.write.bind(deps.store)
    let down = true
    deps.store.write = async (readings): Promise<WriteOutcome[]> => {
      if (down) throw new TransientError('store unavailable')
      return write(readings)
    }
    const failed = await run([temp(1, 85), '{"oops"'])
    expect(failed.records.map((r) => r.outcome)).toEqual(['failed', 'quarantined'])
    expect(failed.records[0]?.detail).toMatch(/store unavailable/)
    down = false
    const retried = await run([temp(1, 85)])
    expect(retried.counts).toMatchObject({ stored: 1, alerts: 1 })
  })

  it('re-delivers a transition whose delivery failed, without deciding it twice', async () => {
    const { deps, run } = setup()
    const publish = deps.alerts.publish.bind(deps.alerts)
    let down = true
    deps.alerts.publish = async (transitions) => {
      if (down) throw new TransientError('sink unavailable')
      return publish(transitions)
    }
    const first = await run([temp(1, 85)])
    expect(first.records[0]?.outcome).toBe('failed')
    down = false
    const retry = await run([temp(1, 85)])
    expect(retry.records[0]?.outcome).toBe('duplicate')
    expect(deps.alerts.transitions.map((t) => t.type)).toEqual(['opened'])
  })

  it('saves pendingSince exactly while an outbox holds transitions, delivered or not', async () => {
    // Loading a state trusts this: without pendingSince, no outbox is looked through.
    const { deps, run } = setup()
    const publish = deps.alerts.publish.bind(deps.alerts)
    let down = false
    deps.alerts.publish = async (transitions) => {
      if (down) throw new TransientError('sink unavailable')
      return publish(transitions)
    }
    const saved = () => {
      const entry = deps.state.entries.get('device/esp32-0001')
      return JSON.parse(entry?.value ?? '{}') as DeviceState
    }
    const holds = (state: DeviceState) => Object.values(state.rules.alerts).some((r) => r.outbox.length > 0)
    const steps: [number, number, boolean][] = [
      [1, 20, false],
      [2, 85, true],
      [3, 86, false],
      [4, 70, true],
      [5, 90, false],
      [6, 60, false],
    ]
    for (const [seq, temperature, failing] of steps) {
      down = failing
      await run([temp(seq, temperature)])
      const state = saved()
      expect(state.pendingSince !== undefined).toBe(holds(state))
    }
    expect(deps.alerts.transitions.map((t) => t.type)).toEqual(['opened', 'cleared', 'opened', 'cleared'])
  })

  it('keeps a store-rejected reading for retry when its quarantine fails, instead of marking it seen', async () => {
    const { deps, run } = setup()
    deps.store.write = async (readings) =>
      readings.map(() => ({ status: 'rejected', reason: 'too_large', message: 'no' }))
    const put = deps.quarantine.put.bind(deps.quarantine)
    let down = true
    deps.quarantine.put = async (entries) => {
      if (down) throw new TransientError('quarantine unavailable')
      return put(entries)
    }
    const first = await run([temp(1, 20)])
    expect(first.records[0]?.outcome).toBe('failed')
    down = false
    const retry = await run([temp(1, 20)])
    expect(retry.records[0]?.outcome).toBe('quarantined')
    expect(deps.quarantine.entries.map((e) => e.reason)).toEqual(['rejected_by_store'])
  })

  it('lets only one of two concurrent invocations open the alert', async () => {
    const shared = new MemoryStateStore()
    // Both load before either saves, as two Lambdas on one device might.
    const racing = racingLoads(shared)
    const a = { ...memoryDeps(new ManualClock(NOW)), state: racing }
    const b = { ...memoryDeps(new ManualClock(NOW)), state: racing }
    await Promise.all([
      ingest([message(temp(1, 85))], a, { rules }),
      ingest([message(temp(2, 86))], b, { rules }),
    ])
    const opened = [...a.alerts.transitions, ...b.alerts.transitions].filter((t) => t.type === 'opened')
    expect(opened).toHaveLength(1)
  })
})

describe('rules configuration', () => {
  it('names the rule and field of a problem', () => {
    expect(() =>
      parseRules([
        { id: 'hot', kind: 'threshold', metric: 'temperature', above: 80, clear: 90, severity: 'warning' },
      ]),
    ).toThrow(/rule hot clear: clear must be at or below `above`/)
    expect(() =>
      parseRules([{ id: 'hot', kind: 'threshold', metric: 'temperature', severity: 'loud' }]),
    ).toThrow(/rule hot severity/)
  })
})
