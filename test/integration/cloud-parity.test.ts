/**
 * `fleetpipe dev --cloud …`: the local path and each cloud's handler, wired as the local runtime
 * wires them (fed the events their platform would deliver), give the bridge the same outcomes and
 * leave the same rows, quarantine entries, alerts and commands for the same publishes.
 */
import type { InboundMessage, IngestResult } from '@fleetpipe/core'
import { ManualClock, MemoryCommandPublisher } from '@fleetpipe/core/memory'
import { type Cloud, cloudIngest } from '@fleetpipe/local'
import { afterEach, describe, expect, it } from 'vitest'
import { NOW, overTemperature } from '../../packages/core/test/_fixtures.ts'
import { type TestDatabase, testDatabase } from '../support/targets.ts'

const open: TestDatabase[] = []
afterEach(async () => {
  for (const db of open.splice(0)) await db.close()
})

const at = (s: number) => NOW - 120_000 + s * 1_000
const publish = (topic: string, body: unknown): InboundMessage => ({
  topic,
  payload: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  receivedAt: NOW,
  source: 'mqtt',
})
const reading = (id: string, seq: number, temperature: number) =>
  publish(`fleet/${id}/telemetry`, {
    v: 1,
    deviceId: id,
    ts: at(seq),
    seq,
    boot: 'b1',
    metrics: { temperature },
  })

/** Every kind of outcome: stored, duplicate, each common quarantine reason, status, a batch, an alert episode. */
const batches: InboundMessage[][] = [
  [
    publish('fleet/p-1/status', { v: 1, deviceId: 'p-1', state: 'online', boot: 'b1' }),
    reading('p-1', 1, 70),
    reading('p-1', 2, 86),
    reading('p-1', 2, 86),
    publish('fleet/p-1/telemetry', '{"v":1,'),
    publish('fleet/p-1/telemetry', { v: 1, deviceId: 'p-2', ts: at(3), seq: 3, metrics: { temperature: 1 } }),
    publish('fleet/p-1/telemetry', { v: 1, deviceId: 'p-1', ts: NOW + 3_600_000, seq: 4, metrics: { t: 1 } }),
    publish('fleet/p-2/telemetry', {
      v: 1,
      deviceId: 'p-2',
      boot: 7,
      readings: [
        { ts: at(1), seq: 1, metrics: { temperature: 20 } },
        { ts: at(2), seq: 2, metrics: { temperature: 'hot' } },
      ],
    }),
  ],
  [reading('p-1', 3, 90), reading('p-1', 4, 60), reading('p-1', 1, 70)],
]

async function run(cloud: Cloud) {
  const database = await testDatabase()
  open.push(database)
  const commands = new MemoryCommandPublisher()
  const route = await cloudIngest(cloud, database.db, {
    rules: overTemperature,
    maxAgeMs: 86_400_000,
    commands,
    clock: new ManualClock(NOW),
  })
  const results: IngestResult[] = []
  try {
    for (const batch of batches) results.push(await route.ingest(batch))
  } finally {
    await route.stop()
  }
  const { db } = database
  return {
    outcomes: results.map((r) =>
      r.records.map(({ message, kind, outcome, reason, path }) => ({ message, kind, outcome, reason, path })),
    ),
    counts: results.map((r) => r.counts),
    latest: await db.queries.latest(),
    readings: (await db.queries.counts()).readings,
    quarantine: (await db.quarantine.list()).map((e) => [e.reason, e.path, e.topic, e.raw]).sort(),
    alerts: (await db.queries.alerts()).map(({ id, state, severity, value }) => ({
      id,
      state,
      severity,
      value,
    })),
    commands: commands.sent,
  }
}

let localRun: ReturnType<typeof run> | undefined

describe('the local runtime through each cloud handler', () => {
  it.each(['aws', 'gcp', 'azure'] as const)(
    '%s agrees with the local path on outcomes, rows, quarantine, alerts and commands',
    async (cloud) => {
      localRun ??= run('local')
      const local = await localRun
      expect(await run(cloud)).toEqual(local)
      // And the scenario exercised what it claims to.
      expect(local.counts[0]).toMatchObject({
        received: 9,
        stored: 4,
        duplicates: 1,
        quarantined: 4,
        statuses: 1,
      })
      expect(local.quarantine.map(([reason]) => reason).sort()).toEqual([
        'device_mismatch',
        'invalid_json',
        'schema',
        'timestamp_out_of_range',
      ])
      expect(local.alerts).toEqual([
        expect.objectContaining({ state: 'cleared', severity: 'critical', value: 86 }),
      ])
      expect(local.commands).toHaveLength(1)
    },
  )
})
