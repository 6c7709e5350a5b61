/**
 * Runs a dataset through the real ingest use-case on the in-memory adapters — decode, dedupe,
 * device state, rules and the alert lifecycle as deployed — in time-ordered batches under a clock
 * that follows the simulated time. And the seed's baseline, on the same readings.
 */
import {
  type AlertTransition,
  emptyCounts,
  type InboundMessage,
  type IngestCounts,
  type IngestOptions,
  ingest,
  type Rule,
  sweep,
  type TelemetryInput,
  topics,
} from '@fleetpipe/core'
import { ManualClock, memoryDeps } from '@fleetpipe/core/memory'
import type { Dataset } from './dataset.ts'

/** An alert as scored: who, which rule (and its kind), and when it opened (device time). */
export interface EvalAlert {
  deviceId: string
  ruleId: string
  kind: string
  openedAt: number
}

export interface RunOptions {
  rules: readonly Rule[]
  /** Readings per ingest call, as a bridge batches them; a batch never spans a sweep. */
  batchSize?: number
  /** How often (device time) heartbeat rules are swept. */
  sweepEveryMs?: number
}

export interface RunResult {
  /** Alerts opened, in device-time order (a batch delivers device by device). */
  alerts: EvalAlert[]
  /** Every transition delivered: opened, escalated, cleared. */
  transitions: AlertTransition[]
  /** What ingest made of the readings, summed over the batches. */
  counts: IngestCounts
  sweeps: number
}

export const DEFAULT_BATCH_SIZE = 500
export const SWEEP_EVERY_MS = 60_000

export async function runRules(
  dataset: Pick<Dataset, 'deviceIds' | 'start' | 'end' | 'readings'>,
  options: RunOptions,
): Promise<RunResult> {
  const { rules, batchSize = DEFAULT_BATCH_SIZE, sweepEveryMs = SWEEP_EVERY_MS } = options
  const clock = new ManualClock(dataset.start)
  const deps = memoryDeps(clock)
  const ingestOptions: IngestOptions = { rules }
  const counts = emptyCounts()
  let batch: InboundMessage[] = []
  let latest = dataset.start

  const flush = async () => {
    if (batch.length === 0) return
    // The batch arrives as its newest reading is taken: every reading in it is in range, none ahead.
    clock.set(latest)
    const result = await ingest(batch, deps, ingestOptions)
    for (const key of Object.keys(counts) as (keyof IngestCounts)[]) counts[key] += result.counts[key]
    batch = []
  }
  let sweeps = 0
  let nextSweep = dataset.start + sweepEveryMs
  const sweepUntil = async (ts: number) => {
    while (nextSweep <= ts) {
      await flush()
      clock.set(nextSweep)
      // Heartbeat rules need time rather than readings: the sweep delivers to the same sink as ingest.
      await sweep(deps, ingestOptions, dataset.deviceIds)
      sweeps++
      nextSweep += sweepEveryMs
    }
  }

  for (const reading of dataset.readings) {
    await sweepUntil(reading.ts)
    batch.push(message(reading))
    latest = Math.max(latest, reading.ts)
    if (batch.length >= batchSize) await flush()
  }
  await flush()
  await sweepUntil(dataset.end)

  const kinds = new Map(rules.map((rule) => [rule.id, rule.kind as string]))
  const transitions = deps.alerts.transitions
  const alerts = transitions
    .filter((t) => t.type === 'opened')
    .map(({ alert }) => ({
      deviceId: alert.deviceId,
      ruleId: alert.ruleId,
      kind: kinds.get(alert.ruleId) ?? 'unknown',
      openedAt: alert.openedAt,
    }))
    .sort((a, b) => a.openedAt - b.openedAt || compare(a.deviceId, b.deviceId) || compare(a.ruleId, b.ruleId))
  return { alerts, transitions: [...transitions], counts, sweeps }
}

function message(reading: TelemetryInput): InboundMessage {
  return {
    topic: topics.telemetry(reading.deviceId),
    payload: JSON.stringify(reading),
    receivedAt: reading.ts,
    source: 'eval',
  }
}

/** The seed's rule, as its Lambda ran it on every message: current above 10 or temperature above 80. */
export const BASELINE = {
  ruleId: 'baseline',
  kind: 'baseline',
  name: 'baseline (seed: current>10 or temperature>80 per message)',
} as const

/** One alert per reading the seed would have flagged: no state, no hysteresis. */
export function baselineAlerts(readings: readonly TelemetryInput[]): EvalAlert[] {
  const alerts: EvalAlert[] = []
  for (const { deviceId, ts, metrics } of readings) {
    // The seed reads a missing metric as 0.
    if ((metrics.current ?? 0) > 10 || (metrics.temperature ?? 0) > 80)
      alerts.push({ deviceId, ruleId: BASELINE.ruleId, kind: BASELINE.kind, openedAt: ts })
  }
  return alerts
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
