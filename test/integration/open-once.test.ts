/**
 * The open-once guarantee against the real store: invocations racing on one device through the
 * PostgreSQL state store (version-checked saves) open one alert and deliver its opening once.
 * Against PGlite by default; against the real PostgreSQL in CI.
 */
import { type AlertTransition, ingest, type StateStore } from '@fleetpipe/core'
import { ManualClock, MemoryCommandPublisher } from '@fleetpipe/core/memory'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { message, NOW, racingLoads, overTemperature as rules } from '../../packages/core/test/_fixtures.ts'
import { type TestDatabase, testDatabase } from '../support/targets.ts'

let target: TestDatabase
beforeAll(async () => {
  target = await testDatabase()
})
afterAll(() => target.close())

const hot = (deviceId: string, seq: number) =>
  message({
    v: 1,
    deviceId,
    ts: NOW - 60_000 + seq * 1_000,
    seq,
    boot: 'b1',
    metrics: { temperature: 85 + seq },
  })

/** Ingest as one invocation would, recording what it delivered on top of the database's alert table. */
function invocation(state: StateStore, delivered: AlertTransition[]) {
  const { db } = target
  return {
    store: db.telemetry,
    state,
    quarantine: db.quarantine,
    alerts: {
      async publish(transitions: readonly AlertTransition[]) {
        await db.alerts.publish(transitions)
        delivered.push(...transitions)
      },
    },
    commands: new MemoryCommandPublisher(),
    clock: new ManualClock(NOW),
  }
}

async function openedRows(deviceId: string) {
  const alerts = await target.db.queries.alerts({ deviceId })
  const events = await target.db.sql.query<{ type: string }>(
    'SELECT e.type FROM alert_events e JOIN alerts a ON a.id = e.alert_id WHERE a.device_id = $1',
    [deviceId],
  )
  return { alerts: alerts.length, opened: events.filter((e) => e.type === 'opened').length }
}

describe('one device, invocations racing through the PostgreSQL state store', () => {
  it('two that both load before either saves open one alert, delivered once', async () => {
    const shared = target.db.state
    // Both load before either saves, as two Lambdas on one device might.
    const racing = racingLoads(shared)
    const delivered: AlertTransition[] = []
    await Promise.all([
      ingest([hot('race-1', 1)], invocation(racing, delivered), { rules }),
      ingest([hot('race-1', 2)], invocation(racing, delivered), { rules }),
    ])
    expect(delivered.filter((t) => t.type === 'opened')).toHaveLength(1)
    expect(await openedRows('race-1')).toEqual({ alerts: 1, opened: 1 })
  })

  it('eight at once open one alert and deliver its opening once; the losers retry, as a transport would', async () => {
    const delivered: AlertTransition[] = []
    let pending = Array.from({ length: 8 }, (_, i) => hot('race-2', i + 1))
    // Under this much contention an invocation may give up (state kept changing): its records fail
    // transiently and the transport delivers them again.
    for (let round = 1; pending.length > 0; round++) {
      if (round > 10) throw new Error(`${pending.length} message(s) never settled`)
      const results = await Promise.all(
        pending.map((m) => ingest([m], invocation(target.db.state, delivered), { rules })),
      )
      pending = pending.filter((_, i) => (results[i] as { counts: { failed: number } }).counts.failed > 0)
    }
    expect(delivered.filter((t) => t.type === 'opened')).toHaveLength(1)
    expect(await openedRows('race-2')).toEqual({ alerts: 1, opened: 1 })
    // Every reading is stored. A loser wrote its reading before its state save failed, and its retry
    // writes it again: the same row twice (README › How records settle), never a reading lost.
    const stored = await target.db.sql.query('SELECT DISTINCT seq FROM telemetry WHERE device_id = $1', [
      'race-2',
    ])
    expect(stored).toHaveLength(8)
  })
})
