/**
 * Where integration tests run: embedded parts by default (an in-process aedes broker, PGlite in
 * memory), or the machine's real Mosquitto and PostgreSQL when FLEETPIPE_TEST_REAL_SERVICES=1.
 */
import { randomBytes } from 'node:crypto'
import { type EmbeddedBroker, startBroker } from '@fleetpipe/local'
import { type Database, openDatabase } from '@fleetpipe/postgres'
import pg from 'pg'

export const realServices = process.env.FLEETPIPE_TEST_REAL_SERVICES === '1'
const brokerUrl = process.env.FLEETPIPE_TEST_BROKER_URL ?? 'mqtt://127.0.0.1:1883'
const databaseUrl = process.env.FLEETPIPE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface TestDatabase {
  db: Database
  /** A URL other processes can open (real PostgreSQL only). */
  url?: string
  close(): Promise<void>
}

/** A fresh database: PGlite in memory, or a schema of its own in the real PostgreSQL. */
export async function testDatabase(): Promise<TestDatabase> {
  if (!realServices) {
    const db = await openDatabase()
    return { db, close: () => db.close() }
  }
  const schema = `fleetpipe_test_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: databaseUrl })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  const url = withSearchPath(databaseUrl, schema)
  const db = await openDatabase({ url })
  return {
    db,
    url,
    async close() {
      await db.close()
      await admin.query(`DROP SCHEMA ${schema} CASCADE`)
      await admin.end()
    },
  }
}

function withSearchPath(url: string, schema: string): string {
  const u = new URL(url)
  u.searchParams.set('options', `-c search_path=${schema}`)
  return u.toString()
}

export interface TestBroker {
  url: string
  close(): Promise<void>
}

export async function testBroker(): Promise<TestBroker> {
  if (realServices) return { url: brokerUrl, close: async () => {} }
  const broker: EmbeddedBroker = await startBroker({ port: 0 })
  return { url: broker.url, close: () => broker.close() }
}

/** Device ids no other run shares, so tests on a shared broker do not see each other's devices. */
export function uniquePrefix(): string {
  return `t${randomBytes(3).toString('hex')}-`
}
