import { app, InvocationContext } from '@azure/functions'
import { ConfigError } from '@fleetpipe/core'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import type { EventHubHandler } from '../src/event-hub.ts'
import type { SweepHandler } from '../src/sweep.ts'
import { loadBatch } from './_events.ts'

// Outside the Functions host `app.eventHub` only warns; this records the registration instead.
const eventHub = vi.spyOn(app, 'eventHub').mockImplementation(() => {})
const timer = vi.spyOn(app, 'timer').mockImplementation(() => {})

let registered: EventHubHandler
let sweep: SweepHandler

beforeAll(async () => {
  await import('../src/main.ts')
  registered = eventHub.mock.calls[0]?.[1].handler as EventHubHandler
  sweep = timer.mock.calls[0]?.[1].handler as SweepHandler
})

describe('the function app entry', () => {
  it('registers ingest as a batched Event Hub trigger on the IoT hub, with an unbounded host retry', () => {
    expect(eventHub).toHaveBeenCalledTimes(1)
    expect(eventHub).toHaveBeenCalledWith('ingest', {
      connection: 'IOTHUB_EVENTS',
      eventHubName: '%EVENTHUB_NAME%',
      consumerGroup: '%EVENTHUB_CONSUMER_GROUP%',
      cardinality: 'many',
      retry: {
        strategy: 'exponentialBackoff',
        maxRetryCount: -1,
        minimumInterval: { seconds: 10 },
        maximumInterval: { minutes: 5 },
      },
      handler: expect.any(Function),
    })
  })

  it('imports without configuration, and wires itself on the first invocation', async () => {
    expect(process.env.FLEETPIPE_DATABASE_URL).toBeUndefined()
    const batch = loadBatch('event-hub/batch-mixed.json')
    const context = new InvocationContext({ triggerMetadata: batch.triggerMetadata, logHandler: () => {} })

    await expect(registered(batch.messages, context)).rejects.toThrow(ConfigError)
    await expect(registered(batch.messages, context)).rejects.toThrow(/FLEETPIPE_STAGE: must be set/)

    // A failed wiring is not kept: the next invocation reads the settings again.
    vi.stubEnv('FLEETPIPE_STAGE', 'dev')
    try {
      const error = await registered(batch.messages, context).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as Error).message).not.toMatch(/FLEETPIPE_STAGE/)
      expect((error as Error).message).toMatch(/FLEETPIPE_DATABASE_URL: must be set/)
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it('registers sweep as a timer on second 0 of every minute, not on startup', () => {
    expect(timer).toHaveBeenCalledTimes(1)
    expect(timer).toHaveBeenCalledWith('sweep', { schedule: '0 * * * * *', handler: expect.any(Function) })
  })

  it('wires the sweep from the same settings on its first invocation', async () => {
    const context = new InvocationContext({ functionName: 'sweep', logHandler: () => {} })
    const tick = {
      isPastDue: false,
      schedule: { adjustForDST: true },
      scheduleStatus: { last: '', next: '', lastUpdated: '' },
    }
    await expect(sweep(tick, context)).rejects.toThrow(/FLEETPIPE_STAGE: must be set/)
    await expect(sweep(tick, context)).rejects.toThrow(ConfigError)
  })
})
