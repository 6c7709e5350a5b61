import { boundedRaw, ingest, parseRules, rawBytes, WIRE_VERSION } from '@fleetpipe/core'
import { MemoryQuarantine } from '@fleetpipe/core/memory'
import { describe, expect, it, vi } from 'vitest'
import { eventHubBatchOf } from '../src/emulate.ts'
import { DeadLetterError } from '../src/errors.ts'
import { createEventHubHandler } from '../src/event-hub.ts'
import { contextFor, loadBatch } from './_events.ts'
import { NOW, rules, setup } from './_setup.ts'

const MIXED = 'event-hub/batch-mixed.json'

const reading = (seq: number, extra: object = {}) => ({
  v: WIRE_VERSION,
  deviceId: 'esp32-0001',
  ts: NOW - 60_000 + seq,
  seq,
  boot: 'b7',
  metrics: { temperature: 23.5 },
  ...extra,
})

/** A batch of these payloads from esp32-0001, as the emulation makes it. */
const batchOf = (payloads: (string | Uint8Array)[], topic = 'fleet/esp32-0001/telemetry') =>
  eventHubBatchOf(payloads.map((payload, i) => ({ topic, payload, receivedAt: NOW - 1_000 + i })))

describe('Event Hub handler', () => {
  it('ingests a mixed IoT Hub batch: stores, dedupes, quarantines, alerts and commands', async () => {
    const { invoke, deps, logs } = setup()

    const counts = await invoke(loadBatch(MIXED))

    expect(counts).toEqual({
      received: 6,
      stored: 2,
      duplicates: 1,
      quarantined: 3,
      failed: 0,
      deadLettered: 0,
      statuses: 0,
      alerts: 1,
      commands: 1,
    })
    expect([...deps.store.rows.values()].map((r) => `${r.deviceId}#${r.seq}`)).toEqual([
      'esp32-0001#1201',
      'esp32-0002#311',
    ])
    expect(deps.quarantine.entries.map((e) => e.reason)).toEqual([
      'invalid_json',
      'device_mismatch',
      'unknown_topic',
    ])
    expect(deps.alerts.transitions).toMatchObject([{ type: 'opened', alert: { deviceId: 'esp32-0002' } }])
    expect(deps.commands.sent).toMatchObject([{ deviceId: 'esp32-0002', command: 'safe-mode' }])
    expect(logs).toEqual([
      {
        level: 'warning',
        line: {
          event: 'ingest',
          stage: 'test',
          counts,
          attempts: 1,
          partitionId: '0',
          sequence: [48210, 48215],
          deadLettered: [],
          foreign: [
            {
              partitionId: '0',
              sequenceNumber: 48215,
              offset: String(48215 * 1024),
              path: 'systemPropertiesArray.5.iothub-connection-device-id',
              issue: 'missing: not a device message from IoT Hub',
            },
          ],
        },
      },
    ])
  })

  it("takes the time IoT Hub received a message, and the authenticated device's id", async () => {
    const { invoke, deps } = setup()
    const batch = loadBatch(MIXED)
    const system = batch.triggerMetadata.systemPropertiesArray as Record<string, string>[]

    await invoke(batch)

    const [invalid, spoofed] = deps.quarantine.entries
    expect(invalid).toMatchObject({
      reason: 'invalid_json',
      topic: 'fleet/esp32-0003/telemetry',
      deviceId: 'esp32-0003',
      source: 'azure-iothub',
      receivedAt: Date.parse(system[3]?.['iothub-enqueuedtime'] as string),
      raw: batch.messages[3],
      rawEncoding: 'utf8',
    })
    // esp32-0004 published a payload claiming to be esp32-0001.
    expect(spoofed).toMatchObject({
      reason: 'device_mismatch',
      path: 'deviceId',
      deviceId: 'esp32-0004',
      topic: 'fleet/esp32-0004/telemetry',
    })
  })

  it('logs an all-good batch as information', async () => {
    const { invoke, logs } = setup()
    await invoke(loadBatch('event-hub/batched-readings.json'))
    expect(logs.map((l) => l.level)).toEqual(['information'])
    expect(logs[0]?.line).toMatchObject({ counts: { received: 3, stored: 3 }, sequence: [48216, 48216] })
  })

  it('decodes bodies the host parsed into objects, left as strings, or passed as bytes', async () => {
    const { invoke, deps } = setup()
    const payloads = [1, 2, 3, 4].map((seq) => JSON.stringify(reading(seq)))
    const batch = batchOf(payloads)
    expect(typeof batch.messages[0]).toBe('object')
    batch.messages[1] = payloads[1]
    batch.messages[2] = Buffer.from(payloads[2] as string)
    batch.messages[3] = new TextEncoder().encode(payloads[3])

    expect(await invoke(batch)).toMatchObject({ received: 4, stored: 4, quarantined: 0 })
    expect([...deps.store.rows.values()].map((r) => r.seq)).toEqual([1, 2, 3, 4])
  })

  it('quarantines, without throwing, JSON the host parsed into something other than an object', async () => {
    const { invoke, deps } = setup()
    const batch = batchOf(['42', 'null', '"text"', '[1]'])
    expect(batch.messages).toEqual([42, null, 'text', [1]])

    expect(await invoke(batch)).toMatchObject({ received: 4, quarantined: 4 })
    expect(deps.quarantine.entries.map((e) => [e.reason, e.raw])).toEqual([
      ['schema', '42'],
      ['schema', 'null'],
      // The worker's parse took the quotes off: the raw is the text that arrived.
      ['invalid_json', 'text'],
      ['schema', '[1]'],
    ])
  })

  it("routes the property bag's status channel to the status topic", async () => {
    const { invoke, deps } = setup()
    expect(await invoke(loadBatch('event-hub/status-online.json'))).toMatchObject({ stored: 1, statuses: 1 })
    expect(deps.store.statuses).toMatchObject([{ deviceId: 'esp32-0001', state: 'online', boot: 'b7' }])
  })

  it('quarantines any other channel as unknown_topic, keeping what the device named', async () => {
    const { invoke, deps } = setup()
    const batch = batchOf([JSON.stringify(reading(1)), JSON.stringify(reading(2))])
    const properties = batch.triggerMetadata.propertiesArray as Record<string, string>[]
    properties[0] = { channel: 'commands' }
    properties[1] = { channel: 'a/b\u0000' }

    expect(await invoke(batch)).toMatchObject({ quarantined: 2, stored: 0 })
    expect(deps.quarantine.entries.map((e) => [e.reason, e.topic])).toEqual([
      ['unknown_topic', 'fleet/esp32-0001/commands'],
      ['unknown_topic', 'fleet/esp32-0001/a%2Fb%00'],
    ])
  })

  it('quarantines a message that did not come from a device through IoT Hub, with its body', async () => {
    const { invoke, deps } = setup()
    const batch = loadBatch(MIXED)

    await invoke(batch)

    expect(deps.quarantine.entries[2]).toMatchObject({
      reason: 'unknown_topic',
      topic: '',
      source: 'azure-iothub',
      raw: JSON.stringify(batch.messages[5]),
      receivedAt: Date.parse('2026-11-23T11:59:40.118Z'),
    })
  })

  it('quarantines events routed from IoT Hub that are not telemetry, and logs their source', async () => {
    const { invoke, deps, logs } = setup()
    expect(await invoke(loadBatch('event-hub/device-lifecycle.json'))).toMatchObject({ quarantined: 1 })
    expect(deps.quarantine.entries).toMatchObject([{ reason: 'unknown_topic', topic: '' }])
    expect(logs[0]?.line.foreign).toEqual([
      {
        partitionId: '0',
        sequenceNumber: 48217,
        offset: '49374208',
        deviceId: 'esp32-0005',
        path: 'systemPropertiesArray.0.iothub-message-source',
        issue: 'is deviceLifecycleEvents, not Telemetry',
      },
    ])
  })

  it('quarantines everything, and throws nothing, when the metadata is missing or malformed', async () => {
    const { handler, deps } = setup()
    const batch = loadBatch(MIXED)
    for (const metadata of [
      undefined,
      { systemPropertiesArray: 'nope' },
      { systemPropertiesArray: [null, 7] },
    ]) {
      const context = contextFor({ ...batch, triggerMetadata: metadata as never })
      expect(await handler(batch.messages, context)).toMatchObject({ received: 6, quarantined: 6 })
    }
    expect(deps.quarantine.entries.every((e) => e.reason === 'unknown_topic' && e.receivedAt === NOW)).toBe(
      true,
    )
  })

  it('retries a transient store failure inside the invocation and stores each reading once', async () => {
    const { invoke, store, deadLetter, sleeps, logs } = setup()
    store.failNext = 2

    const counts = await invoke(loadBatch(MIXED))

    expect(counts).toMatchObject({
      received: 6,
      stored: 2,
      duplicates: 1,
      quarantined: 3,
      failed: 0,
      deadLettered: 0,
    })
    expect(store.writes).toBe(3)
    expect(sleeps).toHaveLength(2)
    expect(store.rows.size).toBe(2)
    expect(deadLetter.entries).toEqual([])
    expect(logs[0]?.line).toMatchObject({ attempts: 3, deadLettered: [] })
  })

  it('ingests again only the messages that failed, and quarantines nothing twice', async () => {
    const { invoke, deps, store } = setup()
    const write = vi.spyOn(store, 'write')
    // One reading of this batched message is refused; the others fail to store the first time.
    const batched = {
      v: WIRE_VERSION,
      deviceId: 'esp32-0001',
      boot: 'b7',
      readings: [
        { ts: NOW - 3_000, seq: 1, metrics: { temperature: 23.5 } },
        { ts: NOW - 2_000, seq: 2, metrics: { Temperature: 23.6 } },
        { ts: NOW - 1_000, seq: 3, metrics: { temperature: 23.7 } },
      ],
    }
    const online = { v: WIRE_VERSION, deviceId: 'esp32-0001', state: 'online', boot: 'b7' }
    const batch = eventHubBatchOf([
      { topic: 'fleet/esp32-0001/telemetry', payload: JSON.stringify(batched), receivedAt: NOW - 500 },
      { topic: 'fleet/esp32-0001/status', payload: JSON.stringify(online), receivedAt: NOW - 400 },
      { topic: 'fleet/esp32-0009/telemetry', payload: JSON.stringify(reading(9)), receivedAt: NOW - 300 },
    ])
    store.failNext = 1

    expect(await invoke(batch)).toMatchObject({
      received: 5,
      stored: 3,
      statuses: 1,
      quarantined: 2,
      failed: 0,
    })
    expect(deps.quarantine.entries.map((e) => [e.reason, e.path])).toEqual([
      ['schema', 'readings.1.metrics.Temperature'],
      ['device_mismatch', 'deviceId'],
    ])
    expect(write.mock.calls.map(([readings]) => readings.map((r) => r.seq))).toEqual([
      [1, 3],
      [1, 3],
    ])
    // The status was stored by the first attempt and not sent again.
    expect(store.statuses).toHaveLength(1)
  })

  it('dead-letters what never recovers, loses nothing, and a replay of the dead letters stores it', async () => {
    const { invoke, deps, store, deadLetter, sleeps, logs } = setup()
    store.failing = 'esp32-0002'
    const batch = loadBatch(MIXED)

    const counts = await invoke(batch)

    // The core writes a batch's new readings in one call, so esp32-0001's reading fails with esp32-0002's.
    expect(counts).toMatchObject({
      received: 6,
      stored: 0,
      duplicates: 1,
      quarantined: 3,
      failed: 0,
      deadLettered: 2,
    })
    expect(counts.received).toBe(counts.stored + counts.duplicates + counts.quarantined + counts.deadLettered)
    expect(sleeps).toHaveLength(3)
    expect(store.rows.size).toBe(0)
    expect(deps.quarantine.entries).toHaveLength(3)
    const system = batch.triggerMetadata.systemPropertiesArray as Record<string, string>[]
    expect(deadLetter.entries).toEqual(
      [0, 1].map((i) => ({
        reason: 'retries_exhausted',
        path: '',
        message: "TransientError: write of esp32-0002's readings timed out",
        topic: `fleet/esp32-000${i + 1}/telemetry`,
        deviceId: `esp32-000${i + 1}`,
        receivedAt: Date.parse(system[i]?.['iothub-enqueuedtime'] as string),
        source: 'azure-iothub',
        ...boundedRaw(Buffer.from(JSON.stringify(batch.messages[i]))),
      })),
    )
    expect(logs[0]).toMatchObject({
      level: 'warning',
      line: {
        attempts: 4,
        deadLettered: [
          { sequenceNumber: 48210, deviceId: 'esp32-0001', detail: expect.stringContaining('timed out') },
          { sequenceNumber: 48211, deviceId: 'esp32-0002', detail: expect.stringContaining('timed out') },
        ],
      },
    })

    // The cause is fixed; the dead letters are replayed through the core.
    store.failing = undefined
    const replay = await ingest(
      deadLetter.entries.map((entry) => ({
        topic: entry.topic,
        payload: rawBytes(entry),
        receivedAt: entry.receivedAt,
        transportDeviceId: entry.deviceId,
        source: 'replay',
      })),
      deps,
      { rules },
    )
    expect(replay.counts).toMatchObject({ received: 2, stored: 2 })
    expect([...store.rows.values()].map((r) => `${r.deviceId}#${r.seq}`)).toEqual([
      'esp32-0001#1201',
      'esp32-0002#311',
    ])
    expect(deps.alerts.transitions).toMatchObject([{ type: 'opened', alert: { deviceId: 'esp32-0002' } }])
  })

  it('dead-letters to the quarantine when no dead-letter store is given', async () => {
    const { deps, store } = setup()
    const { deadLetter: _, ...withoutDeadLetter } = deps
    const handler = createEventHubHandler(withoutDeadLetter, {
      rules,
      retry: { attempts: 2, sleep: async () => {} },
    })
    store.failing = 'esp32-0001'
    const batch = batchOf([JSON.stringify(reading(1))])

    expect(await handler(batch.messages, contextFor(batch))).toMatchObject({ deadLettered: 1 })
    expect(deps.quarantine.entries.map((e) => e.reason)).toEqual(['retries_exhausted'])
  })

  it('throws when the dead letters cannot be written, so the host runs the batch again', async () => {
    const { deps, store, logs } = setup()
    const refusal = new Error('connection refused')
    const deadLetter = new MemoryQuarantine()
    const put = vi.spyOn(deadLetter, 'put').mockRejectedValue(refusal)
    const handler = createEventHubHandler(
      { ...deps, deadLetter },
      { rules, retry: { attempts: 2, sleep: async () => {} } },
    )
    store.failing = 'esp32-0001'
    const batch = batchOf([JSON.stringify(reading(1))])

    const error = await handler(batch.messages, contextFor(batch, logs)).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(DeadLetterError)
    expect((error as DeadLetterError).cause).toBe(refusal)
    expect((error as Error).message).toBe(
      '1 message(s) ran out of retries and could not be dead-lettered: Error: connection refused',
    )
    // Under the same bounded retry as the ingest.
    expect(put).toHaveBeenCalledTimes(2)
    expect(logs).toMatchObject([
      {
        level: 'error',
        line: { counts: { failed: 1, deadLettered: 0 }, deadLettered: [{ sequenceNumber: 0 }] },
      },
    ])
  })

  it('stores nothing twice and opens no alert twice when the same batch is delivered again', async () => {
    const { invoke, deps } = setup()
    await invoke(loadBatch(MIXED))

    expect(await invoke(loadBatch(MIXED))).toMatchObject({
      received: 6,
      stored: 0,
      duplicates: 3,
      quarantined: 3,
      alerts: 0,
    })
    expect(deps.store.rows.size).toBe(2)
    expect(deps.alerts.transitions).toHaveLength(1)
    expect(deps.commands.sent).toHaveLength(1)
  })

  it('loads device state once per attempt, for the whole batch', async () => {
    const { invoke, deps } = setup()
    const load = vi.spyOn(deps.state, 'load')
    await invoke(loadBatch(MIXED))
    expect(load).toHaveBeenCalledTimes(1)
  })

  it('uses the rules it is given', async () => {
    const cold = parseRules([
      { id: 'cold', kind: 'threshold', metric: 'temperature', below: 30, severity: 'warning' },
    ])
    const { invoke, deps } = setup({ rules: cold })
    await invoke(loadBatch(MIXED))
    expect(deps.alerts.transitions).toMatchObject([
      { type: 'opened', alert: { ruleId: 'cold', deviceId: 'esp32-0001' } },
    ])
  })
})
