import { beforeAll, describe, expect, it } from 'vitest'
import { visibilityTimeoutSeconds } from '../queue.ts'
import { buildStages, FUNCTION_TIMEOUT_SECONDS, type Stage, value } from './_mocks.ts'

let dev: Stage

beforeAll(async () => {
  ;({ dev } = await buildStages())
})

describe('the ingest queue', () => {
  it('sends a message that failed 5 times to the dead-letter queue', async () => {
    const { queue, deadLetterQueue } = dev.edge.queues
    const redrive = JSON.parse(String(await value(queue.redrivePolicy)))
    expect(redrive).toEqual({ deadLetterTargetArn: await value(deadLetterQueue.arn), maxReceiveCount: 5 })
  })

  it('hides a message in flight for at least 6× the function timeout, plus the batching window', async () => {
    const visibility = await value(dev.edge.queues.queue.visibilityTimeoutSeconds)
    expect(visibility).toBeGreaterThanOrEqual(6 * FUNCTION_TIMEOUT_SECONDS)
    expect(visibility).toBe(6 * (FUNCTION_TIMEOUT_SECONDS + 5))
    expect(visibilityTimeoutSeconds(900, 0)).toBe(5400)
  })

  it('keeps dead letters 14 days, encrypts every queue at rest', async () => {
    const { queue, deadLetterQueue } = dev.edge.queues
    expect(await value(deadLetterQueue.messageRetentionSeconds)).toBe(1_209_600)
    expect(await value(queue.messageRetentionSeconds)).toBe(4 * 24 * 60 * 60)
    for (const q of [queue, deadLetterQueue, dev.edge.rule.errorQueue]) {
      expect(await value(q.sqsManagedSseEnabled)).toBe(true)
    }
    // The DLQ is where the ingest queue's messages end, not a queue with a DLQ of its own.
    expect(await value(deadLetterQueue.redrivePolicy)).toBeUndefined()
  })
})

describe("the function's event source", () => {
  it('takes batches of up to 100 from the ingest queue, waiting up to 5 s to fill them', async () => {
    const mapping = dev.ingest.eventSource
    expect(await value(mapping.eventSourceArn)).toBe(await value(dev.edge.queues.queue.arn))
    expect(await value(mapping.functionName)).toBe(dev.fn.functionArn)
    expect(await value(mapping.batchSize)).toBe(100)
    expect(await value(mapping.maximumBatchingWindowInSeconds)).toBe(5)
  })

  it('lets the handler report the failed messages of a batch (ReportBatchItemFailures)', async () => {
    expect(await value(dev.ingest.eventSource.functionResponseTypes)).toEqual(['ReportBatchItemFailures'])
  })
})
