/**
 * Ground truth for the evaluation: which anomalies a dataset holds, and which rule kind is meant to
 * catch each. Transport faults (duplicate, malformed, spoof, skew, oversize) are the pipeline's
 * dedupe and quarantine business, not any rule's, so they never appear here.
 */

export const LABEL_KINDS = ['overheat', 'spike', 'stuck', 'drift', 'dropout', 'burst'] as const
export type LabelKind = (typeof LABEL_KINDS)[number]

/** One anomaly: the device's readings with `startTs <= ts <= endTs` were affected (sent or not). */
export interface EvalLabel {
  deviceId: string
  kind: LabelKind
  startTs: number
  endTs: number
}

/**
 * The rule kinds meant to catch each label kind: the one table recall is scored by. A rule kind's
 * recall counts only the labels it targets; an alert of any kind inside any label still counts as
 * true for precision (it pointed at something real).
 */
export const TARGETS: Readonly<Record<LabelKind, readonly string[]>> = {
  overheat: ['threshold'],
  spike: ['spike'],
  stuck: ['flatline'],
  drift: ['zscore', 'rate'],
  dropout: ['heartbeat'],
  burst: ['zscore'],
}

/** The label kinds a rule kind targets, in LABEL_KINDS order; none for a kind the table does not name. */
export function targetsOf(ruleKind: string): LabelKind[] {
  return LABEL_KINDS.filter((kind) => TARGETS[kind].includes(ruleKind))
}

/** Labels counted by kind; every kind appears, at 0 when the dataset has none. */
export function countLabels(labels: readonly EvalLabel[]): Record<LabelKind, number> {
  const counts = Object.fromEntries(LABEL_KINDS.map((kind) => [kind, 0])) as Record<LabelKind, number>
  for (const { kind } of labels) counts[kind]++
  return counts
}
