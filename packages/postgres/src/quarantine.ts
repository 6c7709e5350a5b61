import type { Quarantine, QuarantineEntry, QuarantineReason } from '@fleetpipe/core'
import type { Sql } from './sql.ts'

export interface StoredQuarantineEntry extends QuarantineEntry {
  id: number
  replayedAt?: number
  replayOutcome?: string
}

export class PostgresQuarantine implements Quarantine {
  constructor(private readonly sql: Sql) {}

  async put(entries: readonly QuarantineEntry[]): Promise<void> {
    if (entries.length === 0) return
    await this.sql.query(INSERT, [JSON.stringify(entries.map(toRow))])
  }

  /** Newest first; by default only entries not yet replayed (`all` includes them). */
  async list(filter: { reason?: QuarantineReason; deviceId?: string; limit?: number; all?: boolean } = {}) {
    const rows = await this.sql.query<Row>(
      `SELECT id, (extract(epoch FROM received_at) * 1000)::float8 AS received_ms, reason, path, message, topic,
              device_id, source, raw, raw_encoding, raw_truncated,
              (extract(epoch FROM replayed_at) * 1000)::float8 AS replayed_ms, replay_outcome
       FROM quarantine
       WHERE ($1::text IS NULL OR reason = $1) AND ($2::text IS NULL OR device_id = $2)
         AND ($3 OR replayed_at IS NULL)
       ORDER BY id DESC LIMIT $4`,
      [filter.reason ?? null, filter.deviceId ?? null, filter.all ?? false, filter.limit ?? 100],
    )
    return rows.map(fromRow)
  }

  /**
   * Records what a replay made of each entry (`stored`, `duplicate`, or `quarantined`: then a new
   * entry holds the new reason and this one is settled).
   */
  async markReplayed(results: readonly { id: number; outcome: string }[], at: number): Promise<void> {
    if (results.length === 0) return
    await this.sql.query(
      `UPDATE quarantine q SET replayed_at = timestamptz 'epoch' + $2::bigint * interval '1 millisecond',
              replay_outcome = r.outcome
       FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, outcome text) WHERE q.id = r.id`,
      [JSON.stringify(results), at],
    )
  }

  async countByReason(): Promise<Record<string, number>> {
    const rows = await this.sql.query<{ reason: string; n: string | number }>(
      'SELECT reason, count(*) AS n FROM quarantine WHERE replayed_at IS NULL GROUP BY reason ORDER BY reason',
    )
    return Object.fromEntries(rows.map((r) => [r.reason, Number(r.n)]))
  }
}

interface Row {
  id: string | number
  received_ms: number
  reason: QuarantineReason
  path: string
  message: string
  topic: string
  device_id: string | null
  source: string
  raw: string
  raw_encoding: 'utf8' | 'base64'
  raw_truncated: boolean
  replayed_ms: number | null
  replay_outcome: string | null
}

/** PostgreSQL text cannot hold U+0000: such a payload is kept as base64 (the same bytes). */
function toRow(e: QuarantineEntry) {
  const binary = e.rawEncoding === 'utf8' && e.raw.includes('\u0000')
  return {
    ms: e.receivedAt,
    reason: e.reason,
    path: e.path.replaceAll('\u0000', '\uFFFD'),
    message: e.message.replaceAll('\u0000', '\uFFFD'),
    topic: e.topic,
    device_id: e.deviceId ?? null,
    source: e.source,
    raw: binary ? Buffer.from(e.raw, 'utf8').toString('base64') : e.raw,
    raw_encoding: binary ? 'base64' : e.rawEncoding,
    raw_truncated: e.rawTruncated,
  }
}

function fromRow(r: Row): StoredQuarantineEntry {
  return {
    id: Number(r.id),
    receivedAt: r.received_ms,
    reason: r.reason,
    path: r.path,
    message: r.message,
    topic: r.topic,
    deviceId: r.device_id ?? undefined,
    source: r.source,
    raw: r.raw,
    rawEncoding: r.raw_encoding,
    rawTruncated: r.raw_truncated,
    replayedAt: r.replayed_ms ?? undefined,
    replayOutcome: r.replay_outcome ?? undefined,
  }
}

const INSERT = `
  INSERT INTO quarantine (received_at, reason, path, message, topic, device_id, source, raw, raw_encoding, raw_truncated)
  SELECT timestamptz 'epoch' + q.ms * interval '1 millisecond', q.reason, q.path, q.message, q.topic, q.device_id,
         q.source, q.raw, q.raw_encoding, q.raw_truncated
  FROM jsonb_to_recordset($1::jsonb) AS q(ms bigint, reason text, path text, message text, topic text,
       device_id text, source text, raw text, raw_encoding text, raw_truncated boolean)`
