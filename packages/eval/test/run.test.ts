import { parseRules, type TelemetryInput } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import {
  BASELINE,
  baselineAlerts,
  type Dataset,
  evaluate,
  generateDataset,
  LABEL_KINDS,
  runRules,
  score,
  targetsOf,
} from '../src/index.ts'

const T0 = Date.UTC(2026, 0, 5)
const SECOND = 1_000

/** One device reading every 10 s; `temperature(i)` gives the i-th reading's value, undefined drops it. */
function tiny(count: number, temperature: (i: number) => number | undefined): Dataset {
  const readings: TelemetryInput[] = []
  for (let i = 0; i < count; i++) {
    const value = temperature(i)
    if (value === undefined) continue
    const metrics = { temperature: value, vibration: 0.2, current: 4 }
    readings.push({ v: 1, deviceId: 'd1', ts: T0 + i * 10 * SECOND, seq: i, boot: 'b1', metrics })
  }
  const end = T0 + count * 10 * SECOND
  return { deviceIds: ['d1'], start: T0, end, intervalMs: 10 * SECOND, seed: 0, readings, labels: [] }
}

// The tests' own rules: fleetpipe's defaults are free to change.
const thresholds = parseRules([
  { id: 'hot', kind: 'threshold', metric: 'temperature', above: 80, clear: 75, severity: 'critical' },
  { id: 'shaking', kind: 'threshold', metric: 'vibration', above: 1.5, clear: 1, severity: 'warning' },
])
const hot = thresholds.slice(0, 1)

describe('runRules and the baseline, on a hand-made overheat', () => {
  // Readings 5 to 9 (50 s to 90 s) at 90 °C, the rest at 35.
  const dataset = tiny(20, (i) => (i >= 5 && i <= 9 ? 90 : 35))
  const overheat = {
    deviceId: 'd1',
    kind: 'overheat' as const,
    startTs: T0 + 50 * SECOND,
    endTs: T0 + 90 * SECOND,
  }

  it('opens one alert at the first hot reading and clears it at the first cool one', async () => {
    const run = await runRules(dataset, { rules: hot })
    expect(run.counts).toMatchObject({ received: 20, stored: 20, duplicates: 0, quarantined: 0 })
    expect(run.alerts).toEqual([
      { deviceId: 'd1', ruleId: 'hot', kind: 'threshold', openedAt: overheat.startTs },
    ])
    expect(run.transitions.map((t) => [t.type, (t.at - T0) / SECOND])).toEqual([
      ['opened', 50],
      ['cleared', 100],
    ])
    // One label, found at once by the one alert: precision and recall 1, delay 0.
    expect(
      score(run.alerts, [overheat], { graceMs: 20 * SECOND, deviceDays: 1, targets: ['overheat'] }),
    ).toMatchObject({
      truePositives: 1,
      falsePositives: 0,
      precision: 1,
      recall: 1,
      f1: 1,
      medianDelayMs: 0,
    })
  })

  it('alerts once per hot reading for the baseline, the first finding the label and the rest repeats', () => {
    const alerts = baselineAlerts(dataset.readings)
    expect(alerts.map((a) => (a.openedAt - T0) / SECOND)).toEqual([50, 60, 70, 80, 90])
    expect(alerts.every((a) => a.ruleId === BASELINE.ruleId)).toBe(true)
    // 5 alerts, 1 true and 4 repeats: precision 1/5, recall 1, F1 = 2·0.2·1 / 1.2 = 1/3.
    const scored = score(alerts, [overheat], { graceMs: 20 * SECOND, deviceDays: 1 })
    expect(scored).toMatchObject({ truePositives: 1, repeats: 4, precision: 0.2, recall: 1 })
    expect(scored.f1).toBeCloseTo(1 / 3, 12)
  })

  it('flags current above 10 as the seed did, and reads a missing metric as 0', () => {
    const reading = (metrics: Record<string, number>): TelemetryInput => ({
      v: 1,
      deviceId: 'd1',
      ts: T0,
      seq: 0,
      metrics,
    })
    expect(baselineAlerts([reading({ current: 10.5 })])).toHaveLength(1)
    expect(baselineAlerts([reading({ current: 10, temperature: 80 })])).toHaveLength(0)
    expect(baselineAlerts([reading({ vibration: 3 })])).toHaveLength(0)
  })
})

describe('runRules with time-driven rules', () => {
  it('sweeps each simulated minute, so a silent device raises its heartbeat alert', async () => {
    // Readings every 10 s for 5 minutes, none from 100 s to 190 s: last heard at 90 s. The sweep at
    // 120 s finds 30 s of silence, the rule's limit, and opens; the reading at 200 s clears.
    const dataset = tiny(30, (i) => (i >= 10 && i <= 19 ? undefined : 35))
    const rules = parseRules([{ id: 'silent', kind: 'heartbeat', after: '30s', severity: 'warning' }])
    const run = await runRules(dataset, { rules })
    expect(run.sweeps).toBe(5)
    expect(run.alerts).toEqual([
      { deviceId: 'd1', ruleId: 'silent', kind: 'heartbeat', openedAt: T0 + 120 * SECOND },
    ])
    expect(run.transitions.map((t) => [t.type, (t.at - T0) / SECOND])).toEqual([
      ['opened', 120],
      ['cleared', 200],
    ])
  })
})

describe('runRules on a generated dataset', () => {
  const dataset = generateDataset({ devices: 4, hours: 2, seed: 3, rates: { overheat: 1 } })

  it('stores every reading and catches every overheat with a temperature threshold', async () => {
    const run = await runRules(dataset, { rules: thresholds })
    expect(run.counts.stored).toBe(dataset.readings.length)
    expect(run.counts.received).toBe(dataset.readings.length)
    const overheats = dataset.labels.filter((l) => l.kind === 'overheat')
    expect(overheats.length).toBeGreaterThan(0)
    for (const label of overheats) {
      const caught = run.alerts.some(
        (a) =>
          a.ruleId === 'hot' &&
          a.deviceId === label.deviceId &&
          a.openedAt >= label.startTs &&
          a.openedAt <= label.endTs,
      )
      expect(caught, `${label.deviceId} overheat at ${label.startTs}`).toBe(true)
    }
    // The baseline alerts once per reading above its thresholds, counted here from the readings.
    const hot = dataset.readings.filter(
      (r) => (r.metrics.temperature ?? 0) > 80 || (r.metrics.current ?? 0) > 10,
    )
    expect(baselineAlerts(dataset.readings)).toHaveLength(hot.length)
  })

  it('gives the same alerts whatever the batch size: ingest orders and dedupes as deployed', async () => {
    const small = dataset.readings.slice(0, 2_000)
    const part = { ...dataset, readings: small, end: (small.at(-1) as TelemetryInput).ts + 1 }
    const one = await runRules(part, { rules: thresholds, batchSize: 1 })
    const many = await runRules(part, { rules: thresholds, batchSize: 700 })
    expect(one.alerts.length).toBeGreaterThan(0)
    expect(many.alerts).toEqual(one.alerts)
  })
})

describe('evaluate', () => {
  it('scores a row per rule kind, then fleetpipe as a whole and the baseline, on the same labels', async () => {
    const rules = [
      ...thresholds,
      ...parseRules([{ id: 'silent', kind: 'heartbeat', after: '30s', severity: 'warning' }]),
    ]
    const rates = { overheat: 1, spike: 1, stuck: 1, drift: 1, dropout: 1, burst: 1 }
    const report = await evaluate({ rules, devices: 5, hours: 2, seed: 2, rates })
    for (const kind of LABEL_KINDS) expect(report.dataset.labels[kind], kind).toBeGreaterThan(0)
    expect(report.rows.map((r) => r.kind)).toEqual(['threshold', 'heartbeat', 'all', 'baseline'])
    expect(report.rows[0]?.name).toBe('threshold (2 rules)')
    const [threshold, heartbeat] = report.rows
    // Each kind's alerts are some of fleetpipe's, and its recall is over the labels it targets.
    expect((threshold?.score.alerts ?? 0) + (heartbeat?.score.alerts ?? 0)).toBe(report.fleetpipe.alerts)
    const total = Object.values(report.dataset.labels).reduce((a, b) => a + b, 0)
    expect(report.fleetpipe.labels).toBe(total)
    expect(report.baseline.labels).toBe(total)
    expect(heartbeat?.score.labels).toBe(report.dataset.labels.dropout)
    expect(targetsOf('threshold').map((kind) => report.dataset.labels[kind])).toEqual([
      threshold?.score.labels,
    ])
    // Overheats have the threshold rules, dropouts the heartbeat; the rest have no rule here.
    expect(report.untargeted).toEqual(['spike', 'stuck', 'drift', 'burst'])
    expect(report.ingest.stored).toBe(report.dataset.readings)
  })
})
