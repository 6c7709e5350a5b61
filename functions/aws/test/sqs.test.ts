import { FullBatchFailureError } from '@aws-lambda-powertools/batch'
import { describe, expect, it, vi } from 'vitest'
import { createSqsHandler } from '../src/sqs.ts'
import { sqsEvent } from './_events.ts'
import { setup } from './_setup.ts'

const BATCH = 'sqs/batch-mixed.json'

function run(failing?: string) {
  const ctx = setup(failing)
  return { ...ctx, handler: createSqsHandler(ctx.deps, ctx.options) }
}

describe('SQS handler', () => {
  it('ingests a mixed batch: stores, dedupes and quarantines, and reports no failures', async () => {
    const { handler, deps, emf } = run()
    const event = sqsEvent(BATCH)
    expect(await handler(event)).toEqual({ batchItemFailures: [] })
    expect([...deps.store.rows.values()].map((r) => `${r.deviceId}#${r.seq}`)).toEqual([
      'esp32-0001#1201',
      'esp32-0002#311',
    ])
    expect(deps.quarantine.entries.map((e) => e.reason)).toEqual([
      'invalid_json',
      'device_mismatch',
      'unknown_topic',
    ])
    expect(emf).toHaveLength(1)
    expect(emf[0]).toMatchObject({
      stage: 'test',
      received: 6,
      stored: 2,
      duplicates: 1,
      quarantined: 3,
      failed: 0,
      alerts: 1,
    })
    expect(deps.alerts.transitions).toMatchObject([{ type: 'opened', alert: { deviceId: 'esp32-0002' } }])
    expect(deps.commands.sent).toMatchObject([{ deviceId: 'esp32-0002', command: 'safe-mode' }])
  })

  it('keeps the raw body of a body that is not the projection, and logs its record and field', async () => {
    const { handler, deps, warn } = run()
    const event = sqsEvent(BATCH)
    await handler(event)
    const foreign = event.Records[5]
    expect(deps.quarantine.entries[2]).toMatchObject({
      reason: 'unknown_topic',
      topic: '',
      source: 'aws-sqs',
      raw: foreign?.body,
      receivedAt: Number(foreign?.attributes.SentTimestamp),
    })
    expect(warn).toHaveBeenCalledWith(
      'event is not the IoT rule projection, quarantining it',
      expect.objectContaining({ messageId: foreign?.messageId, path: 'Records.5.body.payload' }),
    )
  })

  it('calls the core once per batch, loading device state once', async () => {
    const { handler, deps } = run()
    const load = vi.spyOn(deps.state, 'load')
    await handler(sqsEvent(BATCH))
    expect(load).toHaveBeenCalledTimes(1)
  })

  it('lists only the messages whose readings failed to store, and none quarantined or duplicate', async () => {
    const { handler, deps, store } = run('esp32-0002')
    const event = sqsEvent(BATCH)
    const ids = event.Records.map((r) => r.messageId)
    // The core writes a batch's new readings in one call, so esp32-0002's failure fails esp32-0001's
    // reading too; its duplicate (record 2) was settled before the write and is not retried.
    expect(await handler(event)).toEqual({
      batchItemFailures: [{ itemIdentifier: ids[0] }, { itemIdentifier: ids[1] }],
    })
    expect(deps.quarantine.entries).toHaveLength(3)
    expect(store.rows.size).toBe(0)

    // SQS redelivers the two: now they are stored, and the alert opens once.
    store.failing = undefined
    const redelivery = { Records: event.Records.slice(0, 2) }
    expect(await handler(redelivery)).toEqual({ batchItemFailures: [] })
    expect(store.rows.size).toBe(2)
    expect(deps.alerts.transitions).toHaveLength(1)
  })

  it('throws when every message of a batch failed (Powertools full-batch failure)', async () => {
    const { handler } = run('esp32-0002')
    const event = sqsEvent(BATCH)
    await expect(handler({ Records: event.Records.slice(1, 2) })).rejects.toThrow(FullBatchFailureError)
  })

  it('stores nothing twice and opens no alert twice when the same batch comes again', async () => {
    const { handler, deps, emf } = run()
    await handler(sqsEvent(BATCH))
    expect(await handler(sqsEvent(BATCH))).toEqual({ batchItemFailures: [] })
    expect(deps.store.rows.size).toBe(2)
    expect(deps.alerts.transitions).toHaveLength(1)
    expect(deps.commands.sent).toHaveLength(1)
    expect(emf[1]).toMatchObject({ received: 6, stored: 0, duplicates: 3, quarantined: 3, alerts: 0 })
  })
})
