/** Opens fleetpipe's database: PostgreSQL over `pg` when given a URL, else embedded PGlite. */
import { mkdir } from 'node:fs/promises'
import type { PGlite } from '@electric-sql/pglite'
import { CachedStateStore, type StateStore } from '@fleetpipe/core'
import pg from 'pg'
import { PostgresAlertSink } from './alert-sink.ts'
import { migrate } from './migrations.ts'
import { PostgresQuarantine } from './quarantine.ts'
import { Queries } from './queries.ts'
import { pgliteSql, pgSql, type Sql } from './sql.ts'
import { PostgresStateStore } from './state-store.ts'
import { PostgresTelemetryStore } from './telemetry-store.ts'

export interface DatabaseOptions {
  /** `postgres://…`: PostgreSQL or TimescaleDB. Without it, PGlite. */
  url?: string
  /** PGlite's data folder; without it, an in-memory database. */
  dataDir?: string
}

export interface Database {
  sql: Sql
  telemetry: PostgresTelemetryStore
  state: StateStore
  quarantine: PostgresQuarantine
  alerts: PostgresAlertSink
  queries: Queries
  /** The embedded PGlite instance, for serving it over the wire protocol. */
  pglite?: PGlite
  /** For people: where the data lives. */
  location: string
  /**
   * Reclaims the space updates leave behind in the state and alert tables. PostgreSQL's autovacuum
   * does it on a server; PGlite has no background workers, so a long `fleetpipe dev` calls this
   * now and then (a no-op on a server).
   */
  maintain(): Promise<void>
  close(): Promise<void>
}

export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  let sql: Sql
  let pglite: PGlite | undefined
  let location: string
  if (options.url) {
    sql = pgSql(new pg.Pool({ connectionString: options.url, max: 4 }))
    location = redact(options.url)
  } else {
    if (options.dataDir) await mkdir(options.dataDir, { recursive: true })
    // Loaded only here: a function that talks to a server (Lambda, Cloud Run) bundles no PGlite.
    const { PGlite } = await import('@electric-sql/pglite')
    pglite = await PGlite.create(options.dataDir)
    sql = pgliteSql(pglite, { copy: options.dataDir !== undefined })
    location = options.dataDir ? `PGlite at ${options.dataDir}` : 'PGlite in memory'
  }
  try {
    await migrate(sql)
  } catch (error) {
    await sql.close()
    throw error
  }
  return {
    sql,
    telemetry: new PostgresTelemetryStore(sql),
    // PGlite's files belong to this process alone (dev refuses to share them), so its state reads
    // come from memory after the first; the version checks still run in the database.
    state: pglite ? new CachedStateStore(new PostgresStateStore(sql)) : new PostgresStateStore(sql),
    quarantine: new PostgresQuarantine(sql),
    alerts: new PostgresAlertSink(sql),
    queries: new Queries(sql),
    pglite,
    location,
    maintain: async () => {
      if (pglite) await sql.query('VACUUM state, alerts, alert_events')
    },
    close: () => sql.close(),
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'PostgreSQL'
  }
}
