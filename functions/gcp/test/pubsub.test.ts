/** The handler called directly, as the framework calls it: the translation's edge cases. */
import { describe, expect, it } from 'vitest'
import { createPubSubHandler, type MessagePublishedEvent } from '../src/index.ts'
import { pubsubEvent } from './_events.ts'
import { NOW, setup } from './_setup.ts'

function run() {
  const ctx = setup()
  const handler = createPubSubHandler(ctx.deps, ctx.options)
  return { ...ctx, invoke: (event: unknown) => handler(event as MessagePublishedEvent) }
}

describe('Pub/Sub handler', () => {
  it('never throws for bad input: each shape is quarantined as unknown_topic', async () => {
    const { invoke, deps } = run()
    const inputs: unknown[] = [
      undefined,
      null,
      'text',
      42,
      [],
      {},
      { type: 'google.cloud.pubsub.topic.v1.messagePublished' },
    ]
    for (const input of inputs) expect(await invoke(input)).toMatchObject({ received: 1, quarantined: 1 })
    expect(deps.quarantine.entries.map((e) => [e.reason, e.topic, e.raw])).toEqual([
      ['unknown_topic', '', 'undefined'],
      ['unknown_topic', '', 'null'],
      ['unknown_topic', '', 'text'],
      ['unknown_topic', '', '42'],
      ['unknown_topic', '', '[]'],
      ['unknown_topic', '', '{}'],
      ['unknown_topic', '', '{"type":"google.cloud.pubsub.topic.v1.messagePublished"}'],
    ])
    expect(deps.quarantine.entries.every((e) => e.receivedAt === NOW)).toBe(true)
  })

  it('refuses a message whose data is not base64 or whose publishTime is not RFC 3339, naming the field', async () => {
    const { invoke, deps, lines } = run()
    const badData = pubsubEvent('message-published')
    badData.data.message.data = 'not base64!'
    const badTime = pubsubEvent('message-published')
    badTime.data.message.publishTime = 'yesterday'

    await invoke(badData)
    await invoke(badTime)

    expect(deps.quarantine.entries.map((e) => e.reason)).toEqual(['unknown_topic', 'unknown_topic'])
    expect(lines.filter((l) => l.severity === 'WARNING').map((l) => l.path)).toEqual([
      'data.message.data',
      'data.message.publishTime',
    ])
  })

  it('keeps bytes inside an unknown event as base64, not as a serialised Buffer', async () => {
    const { invoke, deps } = run()
    await invoke({ type: 'x', data: Buffer.from([1, 2, 3]) })
    expect(JSON.parse(deps.quarantine.entries[0]?.raw as string)).toEqual({ type: 'x', data: 'AQID' })
  })

  it('takes a message with no data as an empty payload, which the core refuses as invalid JSON', async () => {
    const { invoke, deps } = run()
    const event = pubsubEvent('message-published')
    delete (event.data.message as { data?: string }).data
    expect(await invoke(event)).toMatchObject({ quarantined: 1 })
    expect(deps.quarantine.entries).toMatchObject([{ reason: 'invalid_json', raw: '' }])
  })

  it('refuses a command topic in mqttTopic: the bridge forwards only telemetry and status', async () => {
    const { invoke, deps } = run()
    const event = pubsubEvent('message-published')
    event.data.message.attributes.mqttTopic = 'fleet/esp32-0001/commands'
    await invoke(event)
    expect(deps.quarantine.entries).toMatchObject([
      { reason: 'unknown_topic', topic: 'fleet/esp32-0001/commands' },
    ])
  })

  it('holds the payload to the topic when the bridge does not know the client', async () => {
    const { invoke, store } = run()
    const event = pubsubEvent('message-published')
    delete (event.data.message.attributes as Record<string, string | undefined>).deviceId
    expect(await invoke(event)).toMatchObject({ stored: 1 })
    expect(store.rows.size).toBe(1)
  })

  it('hands each invocation its full result to onResult', async () => {
    const ctx = setup()
    const results: unknown[] = []
    const handler = createPubSubHandler(ctx.deps, { ...ctx.options, onResult: (r) => results.push(r) })
    await handler(pubsubEvent('batched-readings'))
    expect(results).toMatchObject([
      { counts: { stored: 3 }, records: [{ message: 0 }, { message: 0 }, { message: 0 }] },
    ])
  })
})
