import {
  type DeviceTypeSpec,
  DriftWatch,
  type InboundMessage,
  type IngestDeps,
  ingest,
  parseRules,
  type Reading,
} from '@fleetpipe/core'
import { ManualClock, MemoryCommandPublisher } from '@fleetpipe/core/memory'
import {
  getText,
  LocalRetrain,
  MemoryBlobStore,
  type RetrainNotification,
  readDataset,
  StoreDatasetExporter,
} from '@fleetpipe/retrain'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Database, openDatabase, PostgresDatasetSource } from '../src/index.ts'

const HOUR = 3_600_000
const START = Date.UTC(2026, 10, 23, 10, 0, 0)
const deviceTypes: DeviceTypeSpec[] = [
  { name: 'env', devices: 'env-*' },
  { name: 'motor', devices: 'motor-*' },
]
const rules = parseRules(
  [
    {
      id: 'over-temperature',
      kind: 'threshold',
      deviceType: 'motor',
      metric: 'temperature',
      above: 80,
      clear: 75,
      severity: 'critical',
    },
  ],
  deviceTypes,
)

const message = (reading: Reading): InboundMessage => ({
  topic: `fleet/${reading.deviceId}/telemetry`,
  payload: JSON.stringify({ v: 1, ...reading }),
  receivedAt: reading.ts,
  source: 'test',
})

/** Seeded, so a run trains on the same readings every time. */
function generator(seed: number) {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state / 4_294_967_296
  }
}

describe('PostgresDatasetSource', () => {
  let db: Database
  const clock = new ManualClock(START)
  let deps: IngestDeps

  beforeAll(async () => {
    db = await openDatabase()
    deps = {
      store: db.telemetry,
      state: db.state,
      quarantine: db.quarantine,
      alerts: db.alerts,
      commands: new MemoryCommandPublisher(),
      clock,
    }
  }, 30_000)

  afterAll(async () => {
    await db?.close()
  })

  /** Readings every 10 s from 4 motors and an env node, a motor overheating now and then. */
  async function ingestHour(from: number, drift?: DriftWatch) {
    const random = generator(from / HOUR)
    for (let step = 0; step < 360; step++) {
      const ts = from + step * 10_000
      clock.set(ts + 500)
      const readings: Reading[] = []
      for (let d = 0; d < 4; d++) {
        const hot = random() < 0.03
        const temperature = hot ? 90 + random() : 34 + 2 * random()
        readings.push({
          deviceId: `motor-${d}`,
          boot: 'b1',
          seq: step,
          ts: ts + d,
          metrics: { temperature, current: 4 + random() / 10 },
        })
      }
      readings.push({ deviceId: 'env-0', boot: 'b1', seq: step, ts, metrics: { humidity: 40 } })
      const messages = readings.map(message)
      const result = await ingest(messages, deps, { rules })
      expect(result.counts.stored).toBe(readings.length)
      await drift?.observe(messages, result)
    }
  }

  it('reads a device type’s readings in time order, labelled where an alert was open', async () => {
    await ingestHour(START)
    const source = new PostgresDatasetSource(db.sql, { deviceTypes })
    const rows = []
    for await (const row of source.rows({
      deviceType: 'motor',
      since: START,
      until: START + HOUR,
      limit: 1e6,
    }))
      rows.push(row)

    expect(rows).toHaveLength(4 * 360)
    expect(new Set(rows.map((r) => r.reading.deviceId))).toEqual(
      new Set(['motor-0', 'motor-1', 'motor-2', 'motor-3']),
    )
    const ts = rows.map((r) => r.reading.ts)
    expect(ts).toEqual([...ts].sort((a, b) => a - b))
    // Labelled exactly where the rule saw an overheat: its alert opens there and clears on the next reading.
    const hot = rows.filter((r) => (r.reading.metrics.temperature as number) > 80)
    expect(hot.length).toBeGreaterThan(10)
    expect(rows.filter((r) => r.label).map((r) => r.reading)).toEqual(hot.map((r) => r.reading))
    expect(rows.every((r) => r.label !== undefined)).toBe(true)
  }, 60_000)

  it('keeps the newest rows when asked for fewer, across pages', async () => {
    const source = new PostgresDatasetSource(db.sql, { deviceTypes })
    const rows = []
    const limit = 4 * 300 + 2
    for await (const row of source.rows({ deviceType: 'motor', since: START, until: START + HOUR, limit }))
      rows.push(row.reading)
    expect(rows).toHaveLength(limit)
    expect(rows.at(-1)).toMatchObject({ deviceId: 'motor-3', seq: 359 })
    expect(rows[0]?.seq).toBe(59)

    const env = []
    for await (const row of source.rows({ deviceType: 'env', since: START, until: START + 60_000, limit }))
      env.push(row)
    expect(env.map((r) => [r.reading.deviceId, r.label])).toEqual(Array(6).fill(['env-0', false]))
  })

  it('a drift run through LocalRetrain exports the window from the store, trains and finishes', async () => {
    const blobs = new MemoryBlobStore()
    const notifications: RetrainNotification[] = []
    const retrain = new LocalRetrain({
      blobs,
      executions: new MemoryBlobStore(),
      notifier: { notify: async (n) => void notifications.push(n) },
      exporter: new StoreDatasetExporter({
        blobs,
        source: new PostgresDatasetSource(db.sql, { deviceTypes }),
        lookbackMs: 2 * HOUR,
      }),
      clock,
      sleep: async () => {},
    })
    const drift = new DriftWatch({ state: db.state, trigger: retrain, clock }, { deviceTypes, threshold: 5 })

    await ingestHour(START + HOUR, drift)
    expect(await retrain.executions()).toEqual([])
    clock.set(START + 2 * HOUR + 1_000)
    const next = [
      message({
        deviceId: 'motor-0',
        boot: 'b1',
        seq: 1_000,
        ts: START + 2 * HOUR,
        metrics: { temperature: 34 },
      }),
    ]
    const started = await drift.observe(next, await ingest(next, deps, { rules }))

    expect(started.map((r) => r.idempotencyKey)).toEqual([`drift-motor-${START + HOUR}`])
    const [record] = await retrain.executions()
    expect(record?.status, record?.cause).toBe('SUCCEEDED')
    expect(record?.history.filter((e) => e.type === 'StateEntered').map((e) => e.state)).toEqual([
      'Configure',
      'HasDataset',
      'ExportDataset',
      'ValidateDataset',
      'Train',
      'Evaluate',
      'ShouldPromote',
      'Register',
      'Notify',
      'Done',
    ])
    expect(notifications.map((n) => [n.outcome, n.deviceType])).toEqual([['promoted', 'motor']])

    // The two hours before the window's end, motors only, labelled.
    const output = record?.output as { detail: { key: string; rows: number; since: number; until: number } }
    expect(output.detail).toMatchObject({ since: START, until: START + 2 * HOUR, rows: 2 * 4 * 360 })
    const text = (await getText(blobs, output.detail.key)) as string
    let rows = 0
    let labelled = 0
    const chunks = (async function* () {
      yield text
    })()
    for await (const row of readDataset(chunks, 'ndjson')) {
      rows++
      if (row.label) labelled++
      expect(row.reading.deviceId).toMatch(/^motor-/)
    }
    expect(rows).toBe(2 * 4 * 360)
    expect(labelled).toBeGreaterThan(20)
  }, 120_000)
})
