/**
 * Versioned schema migrations, applied in order inside one transaction each. Never edit a
 * released migration: add the next version.
 */
import type { Sql } from './sql.ts'

interface Migration {
  version: number
  name: string
  up: string
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'telemetry, quarantine, alerts, state and devices',
    up: `
      CREATE TABLE telemetry (
        ts          timestamptz NOT NULL,
        device_id   text        NOT NULL,
        boot        text        NOT NULL DEFAULT '',
        seq         bigint      NOT NULL,
        metrics     jsonb       NOT NULL,
        fw          text,
        received_at timestamptz NOT NULL DEFAULT now()
      );
      -- Append-only: dedupe is the core's (a window per device in the state table), so no unique key
      -- slows the insert path. Rows arrive in time order, which a BRIN index serves at little cost.
      CREATE INDEX telemetry_ts ON telemetry USING brin (ts);

      CREATE TABLE quarantine (
        id            bigserial   PRIMARY KEY,
        received_at   timestamptz NOT NULL,
        reason        text        NOT NULL,
        path          text        NOT NULL,
        message       text        NOT NULL,
        topic         text        NOT NULL,
        device_id     text,
        source        text        NOT NULL,
        raw           text        NOT NULL,
        raw_encoding  text        NOT NULL,
        raw_truncated boolean     NOT NULL,
        replayed_at   timestamptz,
        replay_outcome text
      );
      CREATE INDEX quarantine_received ON quarantine (received_at DESC);
      CREATE INDEX quarantine_pending ON quarantine (id) WHERE replayed_at IS NULL;

      CREATE TABLE alerts (
        id              text        PRIMARY KEY,
        device_id       text        NOT NULL,
        rule_id         text        NOT NULL,
        metric          text        NOT NULL,
        severity        text        NOT NULL,
        state           text        NOT NULL CHECK (state IN ('open', 'cleared')),
        opened_at       timestamptz NOT NULL,
        cleared_at      timestamptz,
        acknowledged_at timestamptz,
        value           double precision NOT NULL,
        threshold       double precision NOT NULL,
        message         text        NOT NULL
      );
      CREATE INDEX alerts_open ON alerts (device_id) WHERE state = 'open';

      CREATE TABLE alert_events (
        alert_id text        NOT NULL REFERENCES alerts (id),
        type     text        NOT NULL,
        at       timestamptz NOT NULL,
        value    double precision NOT NULL,
        message  text        NOT NULL,
        PRIMARY KEY (alert_id, type, at)
      );

      CREATE TABLE state (
        key        text        PRIMARY KEY,
        value      jsonb       NOT NULL,
        version    integer     NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE devices (
        device_id  text        PRIMARY KEY,
        state      text        NOT NULL,
        boot       text,
        fw         text,
        changed_at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'alerts record their rule kind and the model that scored them',
    up: `
      ALTER TABLE alerts ADD COLUMN kind text NOT NULL DEFAULT 'threshold';
      ALTER TABLE alerts ADD COLUMN model_version text;
    `,
  },
]

export async function migrate(sql: Sql): Promise<{ applied: number[] }> {
  await sql.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
  const applied: number[] = []
  for (const migration of migrations) {
    const done = await sql.transaction(async (tx) => {
      // Two processes migrating one database take turns; the second finds the work done.
      await tx.query('SELECT pg_advisory_xact_lock(7406251)')
      const rows = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version])
      if (rows.length > 0) return false
      await tx.exec(migration.up)
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ])
      return true
    })
    if (done) applied.push(migration.version)
  }
  await enableTimescale(sql)
  return { applied }
}

/** Where TimescaleDB is installed, telemetry becomes a hypertable; elsewhere it stays a plain table. */
async function enableTimescale(sql: Sql): Promise<void> {
  const available = await sql.query("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
  if (available.length === 0) return
  await sql.exec('CREATE EXTENSION IF NOT EXISTS timescaledb')
  await sql.query(
    "SELECT create_hypertable('telemetry', by_range('ts'), if_not_exists => TRUE, migrate_data => TRUE)",
  )
}
