/**
 * The handler served by the functions-framework's own server, fed HTTP requests as Eventarc sends
 * them (binary content mode) and as a structured CloudEvent.
 */
import type { IngestCounts } from '@fleetpipe/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  type AnyCloudEvent,
  binaryRequestOf,
  type CloudEventRequest,
  createPubSubHandler,
  registerIngest,
  structuredRequestOf,
} from '../src/index.ts'
import { loadEvent, payloadOf, pubsubEvent } from './_events.ts'
import { type Served, serve, setup, uniqueName } from './_setup.ts'

const running: Served[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const served of running.splice(0)) await served.close()
})

const counts = (partial: Partial<IngestCounts>): IngestCounts => ({
  received: 1,
  stored: 0,
  duplicates: 0,
  quarantined: 0,
  failed: 0,
  statuses: 0,
  alerts: 0,
  commands: 0,
  ...partial,
})

const modes: [string, (event: AnyCloudEvent) => CloudEventRequest][] = [
  ['binary', binaryRequestOf],
  ['structured', structuredRequestOf],
]

describe.each(modes)('ingest through the functions-framework, %s content mode', (_mode, requestOf) => {
  async function start(failing?: string) {
    const ctx = setup(failing)
    const name = uniqueName('ingest')
    registerIngest(name, createPubSubHandler(ctx.deps, ctx.options))
    const served = await serve(name)
    running.push(served)
    return { ...ctx, send: (event: AnyCloudEvent) => served.post(requestOf(event)) }
  }

  it('stores a reading, answers 200 with the counts, and logs one line with them', async () => {
    const { send, store, deps, lines } = await start()
    const event = pubsubEvent('message-published')

    const response = await send(event)

    expect(response.status).toBe(200)
    expect(await response.json()).toEqual(counts({ stored: 1 }))
    expect([...store.rows.values()]).toEqual([
      {
        deviceId: 'esp32-0001',
        boot: 'b7',
        seq: 1201,
        ts: 1795435080000,
        metrics: { temperature: 23.5, vibration: 0.12, current: 4.2 },
        fw: '1.4.2',
      },
    ])
    expect(deps.quarantine.entries).toEqual([])
    expect(lines).toEqual([
      {
        severity: 'INFO',
        message: 'ingested',
        service: 'fleetpipe-ingest',
        stage: 'test',
        messageId: event.data.message.messageId,
        eventId: event.id,
        eventType: 'google.cloud.pubsub.topic.v1.messagePublished',
        topic: 'fleet/esp32-0001/telemetry',
        counts: counts({ stored: 1 }),
      },
    ])
  })

  it('stores each reading of a batched message', async () => {
    const { send, store } = await start()
    const response = await send(pubsubEvent('batched-readings'))
    expect(await response.json()).toEqual(counts({ received: 3, stored: 3 }))
    expect([...store.rows.values()].map((r) => r.seq)).toEqual([1202, 1203, 1204])
  })

  it('stores a status message, received at the publish time', async () => {
    const { send, store } = await start()
    const response = await send(pubsubEvent('status-online'))
    expect(await response.json()).toEqual(counts({ stored: 1, statuses: 1 }))
    expect(store.statuses).toEqual([
      {
        v: 1,
        deviceId: 'esp32-0001',
        state: 'online',
        ts: 1795434900000,
        boot: 'b7',
        fw: '1.4.2',
        receivedAt: Date.parse('2026-11-23T11:55:00.050Z'),
      },
    ])
  })

  it('takes a message with only the deviceId attribute as that device telemetry, and opens its alert', async () => {
    const { send, store, deps } = await start()
    const response = await send(pubsubEvent('device-attribute-only'))
    expect(await response.json()).toEqual(counts({ stored: 1, alerts: 1, commands: 1 }))
    expect([...store.rows.values()]).toMatchObject([{ deviceId: 'esp32-0002', seq: 311 }])
    expect(deps.alerts.transitions).toMatchObject([
      { type: 'opened', alert: { deviceId: 'esp32-0002', ruleId: 'over-temperature' } },
    ])
    expect(deps.commands.sent).toMatchObject([{ deviceId: 'esp32-0002', command: 'safe-mode' }])
  })

  it('quarantines a device publishing as another (the deviceId attribute is the authority) and acks', async () => {
    const { send, store, deps } = await start()
    const event = pubsubEvent('spoofed-device')
    expect(event.data.message.attributes).toEqual({
      mqttTopic: 'fleet/esp32-0001/telemetry',
      deviceId: 'esp32-0004',
    })

    const response = await send(event)

    expect(response.status).toBe(200)
    expect(await response.json()).toEqual(counts({ quarantined: 1 }))
    expect(store.rows.size).toBe(0)
    expect(deps.quarantine.entries).toEqual([
      {
        reason: 'device_mismatch',
        path: 'deviceId',
        message:
          'payload deviceId esp32-0001 does not match the sending device esp32-0004 (topic fleet/esp32-0001/telemetry)',
        deviceId: 'esp32-0004',
        topic: 'fleet/esp32-0001/telemetry',
        receivedAt: Date.parse(event.data.message.publishTime),
        source: 'gcp-pubsub',
        raw: payloadOf(event),
        rawEncoding: 'utf8',
        rawTruncated: false,
      },
    ])
  })

  it('quarantines a payload that is not JSON with its raw bytes, and acks', async () => {
    const { send, deps } = await start()
    const event = pubsubEvent('invalid-json')
    const response = await send(event)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual(counts({ quarantined: 1 }))
    expect(deps.quarantine.entries).toMatchObject([
      {
        reason: 'invalid_json',
        topic: 'fleet/esp32-0003/telemetry',
        deviceId: 'esp32-0003',
        source: 'gcp-pubsub',
        raw: payloadOf(event),
        rawEncoding: 'utf8',
      },
    ])
  })

  it('quarantines an event that is not from Pub/Sub as unknown_topic with the whole event, and logs where', async () => {
    const { send, deps, lines } = await start()
    const event = loadEvent<AnyCloudEvent>('storage/object-finalized.json')

    const response = await send(event)

    expect(response.status).toBe(200)
    expect(await response.json()).toEqual(counts({ quarantined: 1 }))
    const [entry] = deps.quarantine.entries
    expect(entry).toMatchObject({
      reason: 'unknown_topic',
      topic: '',
      source: 'gcp-pubsub',
      receivedAt: Date.parse('2026-11-23T11:59:30.422Z'),
      rawEncoding: 'utf8',
    })
    expect(JSON.parse(entry?.raw as string)).toMatchObject({
      id: event.id,
      type: 'google.cloud.storage.object.v1.finalized',
      source: event.source,
      data: event.data,
    })
    expect(lines[0]).toMatchObject({
      severity: 'WARNING',
      message: 'event is not a Pub/Sub message from the MQTT bridge, quarantining it',
      eventId: event.id,
      eventType: 'google.cloud.storage.object.v1.finalized',
      path: 'type',
    })
  })

  it('quarantines a Pub/Sub message without the bridge attributes as unknown_topic', async () => {
    const { send, deps, lines } = await start()
    const event = pubsubEvent('no-bridge-attributes')
    const response = await send(event)
    expect(await response.json()).toEqual(counts({ quarantined: 1 }))
    const [entry] = deps.quarantine.entries
    expect(entry).toMatchObject({ reason: 'unknown_topic', topic: '', receivedAt: Date.parse(event.time) })
    expect(JSON.parse(entry?.raw as string)).toMatchObject({ data: { message: event.data.message } })
    expect(lines[0]).toMatchObject({
      severity: 'WARNING',
      messageId: event.data.message.messageId,
      path: 'data.message.attributes',
      issue: 'neither mqttTopic nor deviceId is set: not a message from the MQTT bridge',
    })
  })

  it('answers 500 on a transient failure so Pub/Sub redelivers, and stores once when it does', async () => {
    const crash = vi.spyOn(console, 'error').mockImplementation(() => {})
    const { send, store, lines } = await start('esp32-0001')
    const event = pubsubEvent('message-published')

    const failed = await send(event)

    expect(failed.status).toBe(500)
    expect(failed.headers.get('x-google-status')).toBe('error')
    expect(await failed.text()).toMatch(/^1 record\(s\) failed: TransientError: connection terminated/)
    expect(crash).toHaveBeenCalledWith(expect.stringMatching(/^TransientError: 1 record\(s\) failed/))
    expect(lines.map((l) => [l.severity, l.message])).toEqual([
      ['WARNING', 'record failed, Pub/Sub will redeliver the message'],
      ['INFO', 'ingested'],
    ])
    expect(lines[1]?.counts).toEqual(counts({ failed: 1 }))
    expect(store.rows.size).toBe(0)

    store.failing = undefined
    const redelivered = await send(event)
    expect(redelivered.status).toBe(200)
    expect(await redelivered.json()).toEqual(counts({ stored: 1 }))
    expect(store.rows.size).toBe(1)
  })

  it('stores a message delivered twice once, and opens its alert once', async () => {
    const { send, store, deps } = await start()
    const event = pubsubEvent('over-temperature')

    expect(await (await send(event)).json()).toEqual(counts({ stored: 1, alerts: 1, commands: 1 }))
    expect(await (await send(event)).json()).toEqual(counts({ duplicates: 1 }))

    expect(store.rows.size).toBe(1)
    expect(deps.alerts.transitions).toHaveLength(1)
    expect(deps.commands.sent).toHaveLength(1)
  })
})

describe('the functions-framework in front of the handler', () => {
  async function start() {
    const ctx = setup()
    const name = uniqueName('framework')
    registerIngest(name, createPubSubHandler(ctx.deps, ctx.options))
    const served = await serve(name)
    running.push(served)
    return { ...ctx, served }
  }

  it('turns a raw Pub/Sub push body (a push subscription without Eventarc) into the event, which is stored', async () => {
    const { served, store } = await start()
    const { message, subscription } = pubsubEvent('message-published').data
    const response = await served.post(
      { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message, subscription }) },
      '/projects/fleetpipe-prod/topics/fleetpipe-telemetry',
    )
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual(counts({ stored: 1 }))
    expect([...store.rows.values()]).toMatchObject([{ deviceId: 'esp32-0001', seq: 1201 }])
  })

  it('hands the handler a body it cannot parse as bytes, which is quarantined, not thrown on', async () => {
    const { served, deps } = await start()
    const response = await served.post({
      headers: { 'content-type': 'application/octet-stream' },
      body: 'not an event',
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual(counts({ quarantined: 1 }))
    expect(deps.quarantine.entries).toMatchObject([
      { reason: 'unknown_topic', topic: '', raw: 'not an event', rawEncoding: 'utf8' },
    ])
  })

  it('answers a body that is not valid JSON with 400 before the handler runs', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const { served, deps } = await start()
    const response = await served.post({
      headers: { 'content-type': 'application/json' },
      body: '{"message":',
    })
    expect(response.status).toBe(400)
    expect(deps.quarantine.entries).toEqual([])
  })
})
