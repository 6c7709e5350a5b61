import {
  metricsJson,
  type Reading,
  type StatusUpdate,
  type TelemetryStore,
  type WriteOutcome,
} from '@fleetpipe/core'
import type { Sql } from './sql.ts'

/** Rows per INSERT: large enough to amortise a round trip, small enough to bound a statement. */
const CHUNK = 1_000

/**
 * Telemetry on PostgreSQL: one row per reading, metrics as jsonb (as a multi-measure record),
 * appended in batches. The core has already deduped what it hands over.
 */
export class PostgresTelemetryStore implements TelemetryStore {
  constructor(private readonly sql: Sql) {}

  async write(readings: readonly Reading[]): Promise<WriteOutcome[]> {
    for (let i = 0; i < readings.length; i += CHUNK) {
      const chunk = readings.slice(i, i + CHUNK)
      // COPY where the driver takes it (PGlite on disk; see `pgliteSql`).
      if (this.sql.copyFrom) await this.sql.copyFrom(COPY_READINGS, copyText(chunk))
      else await this.sql.query(INSERT_READINGS, encodeReadings(chunk))
    }
    return readings.map(() => ({ status: 'stored' }))
  }

  async has(readings: readonly Reading[]): Promise<boolean[]> {
    const found = new Set<number>()
    for (let i = 0; i < readings.length; i += CHUNK) {
      const chunk = readings.slice(i, i + CHUNK)
      const rows = await this.sql.query<{ i: string | number }>(HAS_READINGS, [
        chunk.map((r) => r.ts),
        chunk.map((r) => r.deviceId),
        chunk.map((r) => r.boot),
        chunk.map((r) => r.seq),
      ])
      for (const row of rows) found.add(i + Number(row.i) - 1)
    }
    return readings.map((_, i) => found.has(i))
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
    metrics[i] = metricsJson(r)
    fw[i] = r.fw ?? null
  }
  return [ms, device, boot, seq, metrics, fw]
}

/** The same rows in COPY's text format: tab-separated, `\N` for null, `\`, tab and newlines escaped. */
export function copyText(readings: readonly Reading[]): string {
  let text = ''
  for (const r of readings) {
    text += `${new Date(r.ts).toISOString()}\t${copyField(r.deviceId)}\t${copyField(r.boot)}\t${r.seq}\t`
    text += `${copyField(metricsJson(r))}\t${r.fw === undefined ? '\\N' : copyField(r.fw)}\n`
  }
  return text
}

const COPY_SPECIAL = /[\\\t\n\r]/
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

function copyField(text: string): string {
  return COPY_SPECIAL.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c] as string) : text
}

const COPY_READINGS = `COPY telemetry (ts, device_id, boot, seq, metrics, fw) FROM '/dev/blob'`

const INSERT_READINGS = `
  INSERT INTO telemetry (ts, device_id, boot, seq, metrics, fw)
  SELECT timestamptz 'epoch' + r.ms * interval '1 millisecond', r.device_id, r.boot, r.seq, r.metrics::jsonb, r.fw
  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[])
    AS r(ms, device_id, boot, seq, metrics, fw)`

const HAS_READINGS = `
  SELECT r.i FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY
    AS r(ms, device_id, boot, seq, i)
  WHERE EXISTS (
    SELECT 1 FROM telemetry t
    WHERE t.ts = timestamptz 'epoch' + r.ms * interval '1 millisecond'
      AND t.device_id = r.device_id AND t.boot = r.boot AND t.seq = r.seq)`

const UPSERT_DEVICES = `
  INSERT INTO devices AS d (device_id, state, boot, fw, changed_at)
  SELECT DISTINCT ON (s.device_id) s.device_id, s.state, s.boot, s.fw, timestamptz 'epoch' + s.ms * interval '1 millisecond'
  FROM jsonb_to_recordset($1::jsonb) AS s(device_id text, state text, boot text, fw text, ms bigint)
  ORDER BY s.device_id, s.ms DESC
  ON CONFLICT (device_id) DO UPDATE
    SET state = excluded.state, boot = coalesce(excluded.boot, d.boot), fw = coalesce(excluded.fw, d.fw),
        changed_at = excluded.changed_at
    WHERE d.changed_at <= excluded.changed_at`
