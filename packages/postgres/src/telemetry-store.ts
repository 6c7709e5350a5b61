import type { Reading, StatusUpdate, TelemetryStore, WriteOutcome } from '@fleetpipe/core'
import { readingKey } from '@fleetpipe/core'
import type { Sql } from './sql.ts'

/** Rows per INSERT: large enough to amortise a round trip, small enough to bound a statement. */
const CHUNK = 1_000

/**
 * Telemetry on PostgreSQL: one row per reading, metrics as jsonb (as a multi-measure record).
 * Writes are idempotent on the dedupe key and say which readings were already there.
 */
export class PostgresTelemetryStore implements TelemetryStore {
  constructor(private readonly sql: Sql) {}

  async write(readings: readonly Reading[]): Promise<WriteOutcome[]> {
    const inserted = new Set<string>()
    for (let i = 0; i < readings.length; i += CHUNK) {
      const rows = await this.sql.query<{
        device_id: string
        boot: string
        seq: string | number
        ms: string | number
      }>(INSERT_READINGS, encodeReadings(readings.slice(i, i + CHUNK)))
      for (const row of rows) {
        inserted.add(
          readingKey({ deviceId: row.device_id, boot: row.boot, seq: Number(row.seq), ts: Number(row.ms) }),
        )
      }
    }
    // A key repeated within the call was inserted once: its first occurrence is the stored one.
    return readings.map((r) => ({ status: inserted.delete(readingKey(r)) ? 'stored' : 'duplicate' }))
  }

  async writeStatus(statuses: readonly StatusUpdate[]): Promise<void> {
    if (statuses.length === 0) return
    // Latest per device wins; a status without a device time is placed at its receive time.
    await this.sql.query(UPSERT_DEVICES, [
      JSON.stringify(
        statuses.map((s) => ({
          device_id: s.deviceId,
          state: s.state,
          boot: s.boot ?? null,
          fw: s.fw ?? null,
          ms: s.ts ?? s.receivedAt,
        })),
      ),
    ])
  }
}

/** Columns for one unnest INSERT: the encoding the core path benchmark measures. */
export function encodeReadings(readings: readonly Reading[]): unknown[] {
  const n = readings.length
  const ms = new Array<number>(n)
  const device = new Array<string>(n)
  const boot = new Array<string>(n)
  const seq = new Array<number>(n)
  const metrics = new Array<string>(n)
  const fw = new Array<string | null>(n)
  for (let i = 0; i < n; i++) {
    const r = readings[i] as Reading
    ms[i] = r.ts
    device[i] = r.deviceId
    boot[i] = r.boot
    seq[i] = r.seq
    metrics[i] = JSON.stringify(r.metrics)
    fw[i] = r.fw ?? null
  }
  return [ms, device, boot, seq, metrics, fw]
}

const INSERT_READINGS = `
  INSERT INTO telemetry (ts, device_id, boot, seq, metrics, fw)
  SELECT timestamptz 'epoch' + r.ms * interval '1 millisecond', r.device_id, r.boot, r.seq, r.metrics::jsonb, r.fw
  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[])
    AS r(ms, device_id, boot, seq, metrics, fw)
  ON CONFLICT DO NOTHING
  RETURNING device_id, boot, seq, (extract(epoch FROM ts) * 1000)::bigint AS ms`

const UPSERT_DEVICES = `
  INSERT INTO devices AS d (device_id, state, boot, fw, changed_at)
  SELECT DISTINCT ON (s.device_id) s.device_id, s.state, s.boot, s.fw, timestamptz 'epoch' + s.ms * interval '1 millisecond'
  FROM jsonb_to_recordset($1::jsonb) AS s(device_id text, state text, boot text, fw text, ms bigint)
  ORDER BY s.device_id, s.ms DESC
  ON CONFLICT (device_id) DO UPDATE
    SET state = excluded.state, boot = coalesce(excluded.boot, d.boot), fw = coalesce(excluded.fw, d.fw),
        changed_at = excluded.changed_at
    WHERE d.changed_at <= excluded.changed_at`
