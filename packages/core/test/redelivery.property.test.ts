/**
 * At-least-once delivery, as a property: however a device's readings are split into batches,
 * shuffled inside a batch, and redelivered (whole batches again, single readings again), the
 * alerts that come out are the ones in-order delivery gives.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ingest, parseRules, type TelemetryInput } from '../src/index.ts'
import { ManualClock, memoryDeps } from '../src/memory.ts'
import { message, NOW } from './_fixtures.ts'

const rules = parseRules([
  {
    id: 'hot',
    kind: 'threshold',
    metric: 'temperature',
    above: 80,
    clear: 75,
    for: '3s',
    clearFor: '2s',
    cooldown: '5s',
    escalate: { after: '10s', severity: 'critical' },
    severity: 'warning',
    command: { name: 'safe-mode' },
  },
  { id: 'jumpy', kind: 'rate', metric: 'temperature', rise: 300, per: '1m', severity: 'info' },
  { id: 'odd', kind: 'zscore', metric: 'temperature', z: 3, warmup: 5, halfLife: 10, severity: 'info' },
  { id: 'spiky', kind: 'spike', metric: 'temperature', z: 4, warmup: 5, severity: 'info' },
  { id: 'stuck', kind: 'flatline', metric: 'temperature', unchangedReadings: 4, severity: 'info' },
  { id: 'quiet', kind: 'heartbeat', after: '1m', severity: 'info' },
])

/** Readings one second apart whose temperature wanders between 60 and 95 in steps a rule notices. */
const readingsArb = fc
  .array(fc.constantFrom(60, 70, 74, 76, 79, 81, 85, 95), { minLength: 1, maxLength: 40 })
  .map((temps) =>
    temps.map(
      (temperature, i): TelemetryInput => ({
        v: 1,
        deviceId: 'esp32-0001',
        ts: NOW - 120_000 + i * 1_000,
        seq: i,
        boot: 'b1',
        metrics: { temperature },
      }),
    ),
  )

/** A delivery plan: cut points (batches in order), then extra redeliveries and a shuffle seed per batch. */
const planArb = (n: number) =>
  fc.record({
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, n - 1) }), { maxLength: Math.max(0, n - 1) }),
    redeliverBatches: fc.array(fc.nat(), { maxLength: 4 }),
    redeliverReadings: fc.array(fc.nat(), { maxLength: 6 }),
    shuffle: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
  })

async function deliver(batches: TelemetryInput[][]) {
  const deps = memoryDeps(new ManualClock(NOW))
  for (const batch of batches) {
    const result = await ingest(
      batch.map((r) => message(r)),
      deps,
      { rules },
    )
    expect(result.counts.failed).toBe(0)
  }
  return deps.alerts.transitions.map((t) => `${t.type} ${t.alert.id} ${t.alert.severity} @${t.at}`)
}

function shuffled<T>(items: readonly T[], seeds: readonly number[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = (seeds[i % seeds.length] as number) % (i + 1)
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

describe('redelivery and reordering within batches', () => {
  it('end in the alerts in-order delivery gives', async () => {
    await fc.assert(
      fc.asyncProperty(
        readingsArb.chain((readings) => fc.tuple(fc.constant(readings), planArb(readings.length))),
        async ([readings, plan]) => {
          const expected = await deliver(readings.map((r) => [r]))

          const cuts = [0, ...[...plan.cuts].sort((a, b) => a - b), readings.length]
          const batches: TelemetryInput[][] = []
          for (let i = 1; i < cuts.length; i++) batches.push(readings.slice(cuts[i - 1], cuts[i]))
          const planned: TelemetryInput[][] = []
          batches.forEach((batch, i) => {
            const again = plan.redeliverReadings
              .filter((k) => k % batches.length < i)
              .map((k) => readings[k % readings.length] as TelemetryInput)
              .filter((r) => r.ts < (batch[0] as TelemetryInput).ts)
            planned.push(shuffled([...batch, ...again], plan.shuffle))
            // A batch redelivered whole, right after it went through once.
            if (plan.redeliverBatches.some((k) => k % batches.length === i))
              planned.push([...batch].reverse())
          })

          expect(await deliver(planned)).toEqual(expected)
        },
      ),
      { numRuns: 150 },
    )
  })
})
