import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge'
import { EventBridgeTrigger } from '@fleetpipe/aws'
import { DriftWatch, type PipelineRun } from '@fleetpipe/core'
import type { ManualClock } from '@fleetpipe/core/memory'
import { mockClient } from 'aws-sdk-client-mock'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_EVENT_BUS, depsFromEnv } from '../src/deps.ts'
import { sqsEventOf } from '../src/emulate.ts'
import { runOfEvent } from '../src/retrain-trigger.ts'
import { createSqsHandler } from '../src/sqs.ts'
import { sqsEvent } from './_events.ts'
import { NOW, setup } from './_setup.ts'

const HOUR = 3_600_000
const events = new EventBridgeClient({ region: 'eu-west-1' })
const mock = mockClient(events)

afterEach(() => {
  mock.reset()
})

function run() {
  const ctx = setup()
  const drift = new DriftWatch(
    {
      state: ctx.deps.state,
      trigger: new EventBridgeTrigger(events, {
        eventBusName: DEFAULT_EVENT_BUS,
        retry: { attempts: 1 },
      }),
      clock: ctx.deps.clock,
    },
    { deviceTypes: [{ name: 'esp32', devices: 'esp32-*' }], threshold: 100, minReadings: 1 },
  )
  const error = vi.spyOn(ctx.options.logger as NonNullable<typeof ctx.options.logger>, 'error')
  const handler = createSqsHandler(ctx.deps, { ...ctx.options, drift })
  /** A fresh reading of esp32-0001 now, as the IoT rule would queue it. */
  const fresh = (seq: number) => {
    const now = ctx.deps.clock.now()
    const payload = { v: 1, deviceId: 'esp32-0001', ts: now - 1_000, seq, metrics: { temperature: 20 } }
    return sqsEventOf([
      { topic: 'fleet/esp32-0001/telemetry', payload: JSON.stringify(payload), receivedAt: now },
    ])
  }
  return { ...ctx, handler, fresh, error }
}

// The mixed batch stores 2 readings and opens 1 alert in the window [NOW, NOW + 1 h): 500 per 1,000.
const expected: PipelineRun = {
  idempotencyKey: `drift-esp32-${NOW}`,
  reason: 'drift',
  detail: { deviceType: 'esp32', windowStart: NOW, windowEnd: NOW + HOUR, readings: 2, alerts: 1, rate: 500 },
}

describe('SQS handler with drift', () => {
  it('puts one RetrainRequested event on the default bus when a window closes over the threshold', async () => {
    const { handler, deps, fresh } = run()
    mock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] })

    expect(await handler(sqsEvent('sqs/batch-mixed.json'))).toEqual({ batchItemFailures: [] })
    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(0)
    ;(deps.clock as ManualClock).advance(HOUR)
    expect(await handler(fresh(2_000))).toEqual({ batchItemFailures: [] })
    expect(await handler(fresh(2_001))).toEqual({ batchItemFailures: [] })

    const calls = mock.commandCalls(PutEventsCommand)
    expect(calls.map((c) => c.args[0].input)).toEqual([
      {
        Entries: [
          {
            Source: 'fleetpipe',
            DetailType: 'RetrainRequested',
            EventBusName: 'default',
            Detail: JSON.stringify(expected),
          },
        ],
      },
    ])
    // What the drift rule delivers to the retraining trigger starts this run.
    const entry = calls[0]?.args[0].input.Entries?.[0]
    const delivered = {
      version: '0',
      source: entry?.Source,
      'detail-type': entry?.DetailType,
      detail: JSON.parse(entry?.Detail as string),
    }
    expect(runOfEvent(delivered, { bucket: 'fleetpipe-dev-data' })).toEqual(expected)
  })

  it('keeps the batch when PutEvents fails, and puts the event with a later batch', async () => {
    const { handler, deps, fresh, store, error } = run()
    mock
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] })

    await handler(sqsEvent('sqs/batch-mixed.json'))
    ;(deps.clock as ManualClock).advance(HOUR)
    // The readings are stored and the message leaves the queue; the run waits in the state table.
    expect(await handler(fresh(2_000))).toEqual({ batchItemFailures: [] })
    expect(store.rows.size).toBe(3)
    expect(error).toHaveBeenCalledWith('drift check failed', expect.anything())
    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(1)

    await handler(fresh(2_001))
    const calls = mock.commandCalls(PutEventsCommand)
    expect(calls).toHaveLength(2)
    expect(calls[1]?.args[0].input.Entries?.[0]?.Detail).toBe(JSON.stringify(expected))
  })

  it('is wired from FLEETPIPE_DRIFT_THRESHOLD, and off without it', () => {
    const env = {
      FLEETPIPE_STAGE: 'dev',
      FLEETPIPE_TIMESTREAM_DATABASE: 'fleetpipe',
      FLEETPIPE_TIMESTREAM_TABLE: 'telemetry',
      FLEETPIPE_STATE_TABLE: 'fleetpipe-dev-state',
      FLEETPIPE_ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:fleetpipe-dev-alerts',
      FLEETPIPE_QUARANTINE_BUCKET: 'fleetpipe-dev-data-0a1b2c3',
    }
    expect(depsFromEnv(env).options.drift).toBeUndefined()
    const on = depsFromEnv({ ...env, FLEETPIPE_DRIFT_THRESHOLD: '25' }).options.drift
    expect(on).toBeInstanceOf(DriftWatch)
    expect((on as DriftWatch).windowMs).toBe(HOUR)
  })
})
