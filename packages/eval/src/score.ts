/**
 * Scores alerts against labels.
 *
 * - An alert is a true positive when it opens inside a label's window, `[startTs, endTs + grace]`, on
 *   the same device, and its rule has not already been credited with that label. One inside only
 *   labels its rule was already credited with is a repeat; one inside no label is false. Repeats
 *   and false alerts are both false positives: each pages someone without news.
 * - A label is detected when any of the alerts opens inside its window; its detection delay is the
 *   first such alert's `openedAt - startTs`.
 * - Precision is over alerts (TP / alerts), recall over the target labels (detected / labels).
 */
import { type EvalLabel, type LabelKind, targetsOf } from './labels.ts'
import type { EvalAlert } from './run.ts'

export interface ScoreOptions {
  /** The label kinds recall is over; every kind when absent. */
  targets?: readonly LabelKind[]
  /** How long after a label's last reading an alert still counts. */
  graceMs: number
  /** Device-days the data spans, for false alerts per device-day. */
  deviceDays: number
}

export interface Score {
  alerts: number
  truePositives: number
  /** Repeats included. */
  falsePositives: number
  /** Of the false positives: alerts inside labels their rule already had an alert for. */
  repeats: number
  /** Target labels. */
  labels: number
  detected: number
  /** Undefined without alerts. */
  precision: number | undefined
  /** Undefined without target labels. */
  recall: number | undefined
  /** 0 when nothing was detected; undefined when there was nothing to detect. */
  f1: number | undefined
  falsePerDeviceDay: number
  /** Over the detected labels; undefined when none was. */
  medianDelayMs: number | undefined
}

export function score(
  alerts: readonly EvalAlert[],
  labels: readonly EvalLabel[],
  options: ScoreOptions,
): Score {
  const { graceMs } = options
  const byDevice = new Map<string, EvalLabel[]>()
  for (const label of labels) {
    const list = byDevice.get(label.deviceId)
    if (list) list.push(label)
    else byDevice.set(label.deviceId, [label])
  }
  const inside = (alert: EvalAlert) =>
    (byDevice.get(alert.deviceId) ?? []).filter(
      (label) => alert.openedAt >= label.startTs && alert.openedAt <= label.endTs + graceMs,
    )

  // Precision: credit each alert to one label its rule has not had yet, a target of its kind first.
  const credited = new Map<EvalLabel, Set<string>>()
  let truePositives = 0
  let repeats = 0
  const firstAlert = new Map<EvalLabel, number>()
  for (const alert of [...alerts].sort((a, b) => a.openedAt - b.openedAt)) {
    const around = inside(alert)
    for (const label of around) {
      const first = firstAlert.get(label)
      if (first === undefined || alert.openedAt < first) firstAlert.set(label, alert.openedAt)
    }
    const open = around.filter((label) => !credited.get(label)?.has(alert.ruleId))
    if (open.length === 0) {
      if (around.length > 0) repeats++
      continue
    }
    const preferred = targetsOf(alert.kind)
    const label = open.find((l) => preferred.includes(l.kind)) ?? (open[0] as EvalLabel)
    const rules = credited.get(label)
    if (rules) rules.add(alert.ruleId)
    else credited.set(label, new Set([alert.ruleId]))
    truePositives++
  }

  // Recall, over the target labels only.
  const targets = options.targets
  const wanted = targets ? labels.filter((label) => targets.includes(label.kind)) : labels
  const delays: number[] = []
  for (const label of wanted) {
    const first = firstAlert.get(label)
    if (first !== undefined) delays.push(first - label.startTs)
  }

  const falsePositives = alerts.length - truePositives
  const precision = alerts.length > 0 ? truePositives / alerts.length : undefined
  const recall = wanted.length > 0 ? delays.length / wanted.length : undefined
  return {
    alerts: alerts.length,
    truePositives,
    falsePositives,
    repeats,
    labels: wanted.length,
    detected: delays.length,
    precision,
    recall,
    f1: f1(precision, recall),
    falsePerDeviceDay: options.deviceDays > 0 ? falsePositives / options.deviceDays : 0,
    medianDelayMs: median(delays),
  }
}

function f1(precision: number | undefined, recall: number | undefined): number | undefined {
  if (recall === undefined) return undefined
  // No alerts and labels to find: nothing found.
  if (precision === undefined || precision + recall === 0) return 0
  return (2 * precision * recall) / (precision + recall)
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
