import type { StateStore, Versioned } from '@fleetpipe/core'
import type { Sql } from './sql.ts'

/** Rule and alert state with optimistic concurrency: a save with a stale version changes nothing. */
export class PostgresStateStore implements StateStore {
  constructor(private readonly sql: Sql) {}

  async load<T>(keys: readonly string[]): Promise<Map<string, Versioned<T>>> {
    const out = new Map<string, Versioned<T>>(keys.map((key) => [key, { value: undefined, version: 0 }]))
    if (keys.length === 0) return out
    const rows = await this.sql.query<{ key: string; value: T; version: number }>(
      'SELECT key, value, version FROM state WHERE key = ANY($1::text[])',
      [keys],
    )
    for (const row of rows) out.set(row.key, { value: row.value, version: Number(row.version) })
    return out
  }

  async save<T>(entries: readonly { key: string; value: T; expectedVersion: number }[]): Promise<string[]> {
    if (entries.length === 0) return []
    const rows = await this.sql.query<{ key: string }>(SAVE, [
      JSON.stringify(entries.map((e) => ({ key: e.key, value: e.value, expected: e.expectedVersion }))),
    ])
    const saved = new Set(rows.map((r) => r.key))
    return entries.filter((e) => !saved.has(e.key)).map((e) => e.key)
  }

  /** Keys in order, a page at a time by keyset, so a page costs the same however far in it is. */
  async *keys(prefix: string, pageSize = 1000): AsyncIterable<string[]> {
    let after = ''
    for (;;) {
      const rows = await this.sql.query<{ key: string }>(
        `SELECT key FROM state WHERE starts_with(key, $1) AND key > $2 ORDER BY key COLLATE "C" LIMIT $3`,
        [prefix, after, pageSize],
      )
      if (rows.length === 0) return
      yield rows.map((r) => r.key)
      after = (rows[rows.length - 1] as { key: string }).key
      if (rows.length < pageSize) return
    }
  }
}

// New keys insert only if nobody else did; known keys update only at the expected version.
const SAVE = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(key text, value jsonb, expected integer)
  ), inserted AS (
    INSERT INTO state (key, value, version)
    SELECT key, value, 1 FROM input WHERE expected = 0
    ON CONFLICT (key) DO NOTHING
    RETURNING key
  ), updated AS (
    UPDATE state s SET value = i.value, version = s.version + 1, updated_at = now()
    FROM input i
    WHERE i.expected > 0 AND s.key = i.key AND s.version = i.expected
    RETURNING s.key
  )
  SELECT key FROM inserted UNION ALL SELECT key FROM updated`
