/** The whole evaluation: a dataset, fleetpipe's rules and the seed's baseline run on it, and the scores. */
import type { IngestCounts, Rule } from '@fleetpipe/core'
import { type DatasetOptions, deviceDays, generateDataset } from './dataset.ts'
import { countLabels, LABEL_KINDS, type LabelKind, TARGETS, targetsOf } from './labels.ts'
import { BASELINE, baselineAlerts, runRules } from './run.ts'
import { type Score, score } from './score.ts'

export interface EvaluateOptions extends DatasetOptions {
  rules: readonly Rule[]
  /** Reading intervals an alert may open after a label's last reading and still count; 2 by default. */
  graceIntervals?: number
}

export interface ReportRow {
  /** `threshold (2 rules)`, `fleetpipe (all rules)`, the baseline's name. */
  name: string
  /** A rule kind, `all` or `baseline`. */
  kind: string
  score: Score
}

export interface EvalReport {
  dataset: {
    devices: number
    hours: number
    intervalMs: number
    seed: number
    readings: number
    deviceDays: number
    labels: Record<LabelKind, number>
  }
  /** How long after a label's last reading an alert still counts. */
  graceMs: number
  /** One per rule kind in the rules (first-seen order), then fleetpipe's and the baseline's. */
  rows: ReportRow[]
  fleetpipe: Score
  baseline: Score
  /** Label kinds in the data that no rule kind in the set targets: fleetpipe cannot catch them by design. */
  untargeted: LabelKind[]
  beatsBaseline: { f1: boolean; falseAlerts: boolean }
  /** What ingest made of the readings: every one should be stored. */
  ingest: IngestCounts
}

export async function evaluate(options: EvaluateOptions): Promise<EvalReport> {
  const { rules, graceIntervals = 2 } = options
  const dataset = generateDataset(options)
  const days = deviceDays(dataset)
  // An alert may open a little after a label's last reading: a detector that needs the next reading to
  // be sure, or a sweep that finds the device silent just before it speaks again.
  const graceMs = graceIntervals * dataset.intervalMs

  const run = await runRules(dataset, { rules })
  const baselineRun = baselineAlerts(dataset.readings)

  const kinds = [...new Set(rules.map((rule) => rule.kind as string))]
  const rows: ReportRow[] = kinds.map((kind) => {
    const count = rules.filter((rule) => rule.kind === kind).length
    return {
      name: `${kind} (${count} rule${count === 1 ? '' : 's'})`,
      kind,
      score: score(
        run.alerts.filter((alert) => alert.kind === kind),
        dataset.labels,
        { targets: targetsOf(kind), graceMs, deviceDays: days },
      ),
    }
  })
  const fleetpipe = score(run.alerts, dataset.labels, { graceMs, deviceDays: days })
  const baseline = score(baselineRun, dataset.labels, { graceMs, deviceDays: days })
  rows.push({ name: 'fleetpipe (all rules)', kind: 'all', score: fleetpipe })
  rows.push({ name: BASELINE.name, kind: BASELINE.kind, score: baseline })

  const labels = countLabels(dataset.labels)
  return {
    dataset: {
      devices: dataset.deviceIds.length,
      hours: (dataset.end - dataset.start) / 3_600_000,
      intervalMs: dataset.intervalMs,
      seed: dataset.seed,
      readings: dataset.readings.length,
      deviceDays: days,
      labels,
    },
    graceMs,
    rows,
    fleetpipe,
    baseline,
    untargeted: LABEL_KINDS.filter(
      (kind) => labels[kind] > 0 && !TARGETS[kind].some((target) => kinds.includes(target)),
    ),
    beatsBaseline: {
      f1: (fleetpipe.f1 ?? 0) > (baseline.f1 ?? 0),
      falseAlerts: fleetpipe.falsePerDeviceDay < baseline.falsePerDeviceDay,
    },
    ingest: run.counts,
  }
}
