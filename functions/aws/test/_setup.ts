import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics } from '@aws-lambda-powertools/metrics'
import { type Reading, TransientError, type WriteOutcome } from '@fleetpipe/core'
import { ManualClock, MemoryTelemetryStore, memoryDeps } from '@fleetpipe/core/memory'
import { vi } from 'vitest'
import { overTemperature } from '../../../packages/core/test/_fixtures.ts'
import type { HandlerOptions } from '../src/_report.ts'

/** The fixtures' readings are from the minutes before this. */
export const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)

export const rules = overTemperature

/** The in-memory store, except that writes including `failing`'s readings throw a transient error. */
export class FlakyStore extends MemoryTelemetryStore {
  failing: string | undefined

  constructor(failing?: string) {
    super()
    this.failing = failing
  }

  override async write(readings: readonly Reading[]): Promise<WriteOutcome[]> {
    if (readings.some((r) => r.deviceId === this.failing)) {
      throw new TransientError(`ThrottlingException writing ${this.failing}'s readings`)
    }
    return super.write(readings)
  }
}

/** In-memory deps at NOW with a store that can fail, and handler options that log nothing and keep the EMF. */
export function setup(failing?: string) {
  const store = new FlakyStore(failing)
  const deps = { ...memoryDeps(new ManualClock(NOW)), store }
  const logger = new Logger({ serviceName: 'fleetpipe-ingest', logLevel: 'SILENT' })
  const metrics = new Metrics({
    namespace: 'fleetpipe',
    serviceName: 'fleetpipe-ingest',
    defaultDimensions: { stage: 'test' },
  })
  const emf: ReturnType<Metrics['serializeMetrics']>[] = []
  vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
    emf.push(metrics.serializeMetrics())
    metrics.clearMetrics()
    return metrics
  })
  const warn = vi.spyOn(logger, 'warn')
  const options: HandlerOptions = { stage: 'test', rules, logger, metrics }
  return { deps, store, options, emf, warn }
}
