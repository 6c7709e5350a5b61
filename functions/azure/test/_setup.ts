import { type Reading, TransientError, type WriteOutcome } from '@fleetpipe/core'
import { ManualClock, MemoryQuarantine, MemoryTelemetryStore, memoryDeps } from '@fleetpipe/core/memory'
import { overTemperature } from '../../../packages/core/test/_fixtures.ts'
import type { EventHubBatch } from '../src/emulate.ts'
import { createEventHubHandler, type EventHubHandlerOptions } from '../src/event-hub.ts'
import { contextFor, type LogLine } from './_events.ts'

/** The fixtures' events are from the minutes before this. */
export const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)

export const rules = overTemperature

/** The in-memory store, except that some writes throw a transient error. */
export class FlakyStore extends MemoryTelemetryStore {
  /** Writes including this device's readings fail. */
  failing: string | undefined
  /** The next this many writes fail, whatever they hold. */
  failNext = 0
  writes = 0

  override async write(readings: readonly Reading[]): Promise<WriteOutcome[]> {
    this.writes++
    if (this.failNext > 0) {
      this.failNext--
      throw new TransientError('connection terminated unexpectedly')
    }
    if (readings.some((r) => r.deviceId === this.failing)) {
      throw new TransientError(`write of ${this.failing}'s readings timed out`)
    }
    return super.write(readings)
  }
}

/** In-memory deps at NOW with a store that can fail, a separate dead-letter store, and a handler that does not wait between retries. */
export function setup(options: Partial<EventHubHandlerOptions> = {}) {
  const store = new FlakyStore()
  const deadLetter = new MemoryQuarantine()
  const deps = { ...memoryDeps(new ManualClock(NOW)), store, deadLetter }
  const sleeps: number[] = []
  const handler = createEventHubHandler(deps, {
    rules,
    stage: 'test',
    retry: {
      attempts: 4,
      sleep: async (ms) => {
        sleeps.push(ms)
      },
    },
    ...options,
  })
  const logs: LogLine[] = []
  const invoke = (batch: EventHubBatch) => handler(batch.messages, contextFor(batch, logs))
  return { deps, store, deadLetter, handler, invoke, logs, sleeps }
}
