/**
 * The deployed wiring (`depsFromEnv`) over embedded PostgreSQL (PGlite) and a recording Pub/Sub,
 * served by the functions-framework: what a cloud run stores, quarantines and publishes.
 */

import type { IngestCounts } from '@fleetpipe/core'
import { type Database, openDatabase } from '@fleetpipe/postgres'
import { afterEach, describe, expect, it } from 'vitest'
import { RecordingTopic } from '../../../packages/gcp/test/_fixtures.ts'
import { binaryRequestOf, cloudEventOf, depsFromEnv, registerIngest, type Wiring } from '../src/index.ts'
import { createPubSubHandler } from '../src/pubsub.ts'
import { type Served, serve, uniqueName } from './_setup.ts'

const env = {
  FLEETPIPE_STAGE: 'test',
  FLEETPIPE_DATABASE_URL: 'postgres://fleetpipe@127.0.0.1:5432/fleetpipe',
  FLEETPIPE_ALERTS_TOPIC: 'fleetpipe-alerts',
  FLEETPIPE_COMMANDS_TOPIC: 'fleetpipe-commands',
}

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close()
})

async function start() {
  let db: Database | undefined
  const topics = new Map<string, RecordingTopic>()
  const wiring: Wiring = await depsFromEnv(env, {
    openDatabase: async (url) => {
      expect(url).toBe(env.FLEETPIPE_DATABASE_URL)
      db = await openDatabase()
      return db
    },
    pubsub: {
      topic: (name) => {
        const topic = new RecordingTopic()
        topics.set(name, topic)
        return topic
      },
    },
  })
  cleanup.push(() => wiring.close())
  const name = uniqueName('ingest-pg')
  registerIngest(
    name,
    createPubSubHandler(wiring.deps, { ...wiring.options, logger: { info() {}, warn() {}, error() {} } }),
  )
  const served: Served = await serve(name)
  cleanup.push(() => served.close())
  return { db: db as Database, topics, served }
}

/** Publishes timed now: the wiring runs on the system clock. */
function publish(deviceId: string, body: object, clientId = deviceId) {
  const now = Date.now()
  return cloudEventOf({
    topic: `fleet/${deviceId}/telemetry`,
    payload: JSON.stringify({ v: 1, deviceId, boot: 'b1', ts: now - 1_000, ...body }),
    clientId,
    receivedAt: now,
  })
}

describe('ingest on PostgreSQL (PGlite), wired from the environment', () => {
  it('stores, quarantines, records the alert and publishes it and its command to Pub/Sub, once', {
    timeout: 30_000,
  }, async () => {
    const { db, topics, served } = await start()
    const hot = publish('esp32-0002', { seq: 7, metrics: { temperature: 91.5 } })
    const events = [
      publish('esp32-0001', { seq: 1, metrics: { temperature: 22.5 } }),
      hot,
      publish('esp32-0001', { seq: 2, metrics: { temperature: 22.6 } }, 'esp32-0009'),
      hot,
    ]

    const answers: [number, IngestCounts][] = []
    for (const event of events) {
      const response = await served.post(binaryRequestOf(event))
      answers.push([response.status, (await response.json()) as IngestCounts])
    }

    expect(
      answers.map(([status, counts]) => [status, counts.stored, counts.duplicates, counts.quarantined]),
    ).toEqual([
      [200, 1, 0, 0],
      [200, 1, 0, 0],
      [200, 0, 0, 1],
      [200, 0, 1, 0],
    ])
    expect((await db.queries.latest()).map((r) => [r.deviceId, r.seq])).toEqual([
      ['esp32-0001', 1],
      ['esp32-0002', 7],
    ])
    expect((await db.quarantine.list()).map((e) => [e.reason, e.deviceId, e.source])).toEqual([
      ['device_mismatch', 'esp32-0009', 'gcp-pubsub'],
    ])
    expect((await db.queries.alerts()).map((a) => [a.deviceId, a.ruleId, a.state])).toEqual([
      ['esp32-0002', 'over-temperature', 'open'],
    ])
    expect(topics.get('fleetpipe-alerts')?.calls.map((m) => m.attributes)).toEqual([
      { severity: 'critical', deviceId: 'esp32-0002', rule: 'over-temperature', type: 'opened' },
    ])
    expect(
      topics.get('fleetpipe-commands')?.calls.map((m) => [m.attributes, JSON.parse(m.data.toString())]),
    ).toEqual([
      [
        { mqttTopic: 'fleet/esp32-0002/commands', deviceId: 'esp32-0002', command: 'safe-mode' },
        expect.objectContaining({ deviceId: 'esp32-0002', command: 'safe-mode' }),
      ],
    ])
  })
})
