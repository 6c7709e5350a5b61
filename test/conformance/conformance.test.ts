/**
 * One scenario set through every path — local, AWS, GCP (and each cloud added later) — against
 * the same kind of store: what ends up stored, quarantined, alerted and commanded must be the same,
 * and so must the counts, transport retries aside (a batch that fails is counted failed once per
 * delivery, and transports deliver differently).
 */
import {
  type IngestDeps,
  type IngestResult,
  parseRules,
  type Reading,
  type TelemetryStore,
  TransientError,
} from '@fleetpipe/core'
import { ManualClock, MemoryCommandPublisher } from '@fleetpipe/core/memory'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { overTemperature } from '../../packages/core/test/_fixtures.ts'
import { type TestDatabase, testDatabase } from '../support/targets.ts'
import { type Path, paths } from './paths.ts'
import { NOW, type Scenario, scenarios } from './scenarios.ts'

/** Over-temperature with its safe-mode command, and a last will that raises an alert. */
const rules = [
  ...overTemperature,
  ...parseRules([{ id: 'offline', kind: 'heartbeat', after: '1h', severity: 'warning' }]),
]

// One database per path, shared by the scenarios, which use devices of their own.
const databases = new Map<string, TestDatabase>()
beforeAll(async () => {
  for (const path of paths) databases.set(path.name, await testDatabase())
}, 120_000)
afterAll(async () => {
  for (const database of databases.values()) await database.close()
})

/** A transport gives up after this many deliveries; every scenario must settle well within it. */
const MAX_DELIVERIES = 5

/** The store during a brief outage: its first write fails, transiently. */
function failingOnce(store: TelemetryStore): TelemetryStore & { failed: boolean } {
  const flaky = {
    failed: false,
    write: async (readings: readonly Reading[]) => {
      if (!flaky.failed) {
        flaky.failed = true
        throw new TransientError('store unavailable (injected)')
      }
      return store.write(readings)
    },
    has: store.has?.bind(store),
    writeStatus: (statuses: Parameters<TelemetryStore['writeStatus']>[0]) => store.writeStatus(statuses),
  }
  return flaky
}

/** The devices a scenario's publishes come from or claim to be. */
function devicesOf(scenario: Scenario): string[] {
  const ids = new Set<string>()
  for (const publish of scenario.steps.flat()) {
    ids.add(publish.clientId)
    const claimed = /"deviceId":"([^"]+)"/.exec(String(publish.payload))?.[1]
    if (claimed) ids.add(claimed)
  }
  return [...ids]
}

const results = new Map<Scenario, Awaited<ReturnType<typeof run>>>()

async function run(path: Path, scenario: Scenario) {
  const { db } = databases.get(path.name) as TestDatabase
  const devices = devicesOf(scenario)
  const mine = (deviceId: string | undefined) => deviceId !== undefined && devices.includes(deviceId)
  const commands = new MemoryCommandPublisher()
  const store = scenario.storeFailsOnce ? failingOnce(db.telemetry) : undefined
  const deps: IngestDeps = {
    store: store ?? db.telemetry,
    state: db.state,
    quarantine: db.quarantine,
    alerts: db.alerts,
    commands,
    clock: new ManualClock(NOW),
  }
  const results: IngestResult[] = []
  const { deliver, stop } = await path.start(deps, { rules, maxAgeMs: 86_400_000 }, (r) => results.push(r))
  try {
    for (const step of scenario.steps) {
      let pending = step
      for (let delivery = 1; pending.length > 0; delivery++) {
        if (delivery > MAX_DELIVERIES)
          throw new Error(`${path.name}: ${pending.length} publish(es) never settled`)
        pending = await deliver(pending)
      }
    }
  } finally {
    await stop()
  }
  const total = (key: keyof IngestResult['counts']) => results.reduce((n, r) => n + r.counts[key], 0)
  return {
    rows: await db.sql.query(
      `SELECT device_id, boot, seq::int AS seq, (extract(epoch FROM ts) * 1000)::float8 AS ts, metrics, fw
       FROM telemetry WHERE device_id = ANY($1) ORDER BY device_id, seq, ts`,
      [devices],
    ),
    devices: await db.sql.query(
      'SELECT device_id, state, boot, fw FROM devices WHERE device_id = ANY($1) ORDER BY device_id',
      [devices],
    ),
    quarantine: (await db.quarantine.list())
      .filter((entry) => mine(entry.deviceId))
      .map(({ reason, path: field, topic, deviceId, receivedAt, raw, rawEncoding, rawTruncated }) => ({
        reason,
        path: field,
        topic,
        deviceId,
        receivedAt,
        raw,
        rawEncoding,
        rawTruncated,
      }))
      .sort((a, b) => `${a.reason}${a.path}${a.raw}`.localeCompare(`${b.reason}${b.path}${b.raw}`)),
    alerts: (await db.queries.alerts()).filter((alert) => mine(alert.deviceId)),
    alertEvents: await db.sql.query(
      `SELECT e.alert_id, e.type, (extract(epoch FROM e.at) * 1000)::float8 AS at, e.value, e.message
       FROM alert_events e JOIN alerts a ON a.id = e.alert_id
       WHERE a.device_id = ANY($1) ORDER BY e.alert_id, at, e.type`,
      [devices],
    ),
    commands: [...commands.sent].sort((a, b) => a.id.localeCompare(b.id)),
    counts: {
      stored: total('stored'),
      statuses: total('statuses'),
      duplicates: total('duplicates'),
      quarantined: total('quarantined'),
      alerts: total('alerts'),
      commands: total('commands'),
    },
    /** Whether the injected outage happened (and was recovered from). */
    outage: store?.failed ?? false,
  }
}

describe.each(scenarios)('$name', (scenario) => {
  it(`ends the same through ${paths.map((p) => p.name).join(', ')}`, async () => {
    const [reference, ...others] = paths as [Path, ...Path[]]
    const expected = await run(reference, scenario)
    results.set(scenario, expected)
    for (const path of others) {
      const outcome = await run(path, scenario)
      expect({ path: path.name, ...outcome }).toEqual({ path: path.name, ...expected })
    }
    // Each scenario does what its name says, on the reference path too.
    const published = scenario.steps.flat().length
    const { counts } = expected
    expect(counts.stored + counts.duplicates + counts.quarantined).toBeGreaterThanOrEqual(published)
    expect(expected.outage).toBe(scenario.storeFailsOnce === true)
  })
})

describe('the scenario set', () => {
  it('covers every outcome and every quarantine reason a device can cause', async () => {
    const all = scenarios.map((s) => results.get(s))
    if (all.some((r) => r === undefined)) throw new Error('run the scenarios first (this file, in order)')
    const done = all as NonNullable<(typeof all)[number]>[]
    const reasons = new Set(done.flatMap((r) => r.quarantine.map((q) => q.reason)))
    expect([...reasons].sort()).toEqual([
      'device_mismatch',
      'invalid_json',
      'payload_too_large',
      'schema',
      'timestamp_out_of_range',
      'unsupported_version',
    ])
    const sum = (key: 'stored' | 'duplicates' | 'statuses' | 'alerts' | 'commands') =>
      done.reduce((n, r) => n + r.counts[key], 0)
    expect(sum('duplicates')).toBeGreaterThan(0)
    expect(sum('statuses')).toBe(5)
    // The episode (twice: in order, then redelivered and reordered) and the outage each open and clear
    // an over-temperature alert, with safe-mode on opening; the last will opens one, the birth clears it.
    expect(sum('alerts')).toBe(8)
    expect(sum('commands')).toBe(3)
    expect(done.flatMap((r) => r.alerts.map((a) => [a.deviceId, a.ruleId, a.state]))).toEqual([
      ['c-8', 'over-temperature', 'cleared'],
      ['c-10', 'over-temperature', 'cleared'],
      ['c-11', 'offline', 'cleared'],
      ['c-9', 'over-temperature', 'cleared'],
    ])
    // Redelivered and reordered, the episode ends as it does in order.
    const episode = (device: string) =>
      done
        .flatMap((r) => r.alertEvents as { alert_id: string; type: string; at: number; value: number }[])
        .filter((e) => e.alert_id.startsWith(`${device}:`))
        .map(({ type, at, value }) => ({ type, at, value }))
    expect(episode('c-10')).toEqual(episode('c-8'))
    expect(episode('c-8').map((e) => e.type)).toEqual(['opened', 'cleared'])
  })
})
