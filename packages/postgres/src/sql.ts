/**
 * One SQL dialect, two drivers: `pg` for PostgreSQL / TimescaleDB, PGlite for the embedded store.
 * The adapters talk to this small interface and never to a driver directly.
 */
import type { PGlite, Transaction } from '@electric-sql/pglite'
import type pg from 'pg'

export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>
  /**
   * `COPY … FROM '/dev/blob'` with `data` (COPY's text format) as the input, where the driver can:
   * PGlite can, and takes rows this way faster than any INSERT.
   */
  copyFrom?(statement: string, data: string): Promise<void>
  /** Runs statements in one transaction; the callback's Sql is bound to it. */
  transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T>
  close(): Promise<void>
  readonly driver: 'pg' | 'pglite'
}

export function pgSql(pool: pg.Pool): Sql {
  return {
    ...pgQueries(pool),
    async transaction<T>(fn: (sql: Sql) => Promise<T>) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const result = await fn(clientSql(client))
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw error
      } finally {
        client.release()
      }
    },
    close: () => pool.end(),
  }
}

/** Inside a transaction: the statements go to its one connection. */
function clientSql(client: pg.PoolClient): Sql {
  return { ...pgQueries(client), transaction: (fn) => fn(clientSql(client)), close: async () => {} }
}

function pgQueries(target: pg.Pool | pg.PoolClient): Pick<Sql, 'driver' | 'query' | 'exec'> {
  return {
    driver: 'pg',
    async query<T>(text: string, params?: unknown[]) {
      return (await target.query(text, params)).rows as T[]
    },
    async exec(script: string) {
      await target.query(script)
    },
  }
}

export interface PgliteSqlOptions {
  /** Whether closing this Sql closes the database (not for a transaction's). */
  owner?: boolean
  /**
   * Take rows with COPY. Measured here (1,000-row batches): on disk ~175k rows/s against ~135k for
   * the unnest INSERT; in memory the other way round (~70k against ~110k), so memory keeps INSERT.
   */
  copy?: boolean
}

export function pgliteSql(
  db: PGlite | Transaction,
  { owner = true, copy = false }: PgliteSqlOptions = {},
): Sql {
  const sql: Sql = {
    driver: 'pglite',
    async query<T>(text: string, params?: unknown[]) {
      return (await db.query<T>(text, params)).rows
    },
    async exec(script: string) {
      await db.exec(script)
    },
    async transaction<T>(fn: (sql: Sql) => Promise<T>) {
      if (!('transaction' in db)) return fn(sql)
      return db.transaction((tx) => fn(pgliteSql(tx, { owner: false, copy })))
    },
    close: async () => {
      if (owner && 'close' in db) await db.close()
    },
  }
  if (copy) {
    sql.copyFrom = async (statement, data) => {
      await db.query(statement, [], { blob: new Blob([data]) })
    }
  }
  return sql
}
