import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Reading } from '@fleetpipe/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Database, openDatabase } from '../src/index.ts'

// PGlite on disk takes readings with COPY (its text format), in memory with the unnest INSERT.
describe('the embedded store on disk', () => {
  let dir: string
  let db: Database

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetpipe-copy-'))
    db = await openDatabase({ dataDir: dir })
  }, 30_000)

  afterAll(async () => {
    await db?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('writes with COPY, and keeps every character an id or firmware version may carry', async () => {
    expect(db.sql.copyFrom).toBeTypeOf('function')
    const ts = Date.UTC(2026, 10, 24, 1, 2, 3, 456)
    const readings: Reading[] = [
      {
        deviceId: 'esp32:0001.a_b-c',
        boot: '7',
        seq: 1,
        ts,
        metrics: { temperature: -40.25, tiny: 1e-9, counter: Number.MAX_SAFE_INTEGER },
        // Printable ASCII: the backslash is COPY's escape character, `\N` its null.
        fw: 'v1.2\\beta "rc" \\N\\t',
      },
      { deviceId: 'esp32:0001.a_b-c', boot: '', seq: 2, ts: ts + 1, metrics: { temperature: 20 } },
    ]
    expect(await db.telemetry.write(readings)).toEqual([{ status: 'stored' }, { status: 'stored' }])

    const rows = await db.sql.query<Record<string, unknown>>(
      `SELECT device_id, boot, seq::int AS seq, (extract(epoch FROM ts) * 1000)::float8 AS ts, metrics, fw
       FROM telemetry ORDER BY seq`,
    )
    expect(rows).toEqual(
      readings.map((r) => ({
        device_id: r.deviceId,
        boot: r.boot,
        seq: r.seq,
        ts: r.ts,
        metrics: r.metrics,
        fw: r.fw ?? null,
      })),
    )
    expect(await db.telemetry.has(readings)).toEqual([true, true])
  })

  it('leaves an in-memory database on the INSERT, which is faster there', async () => {
    const memory = await openDatabase()
    try {
      expect(memory.sql.copyFrom).toBeUndefined()
    } finally {
      await memory.close()
    }
  }, 30_000)
})
