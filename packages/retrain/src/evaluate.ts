/**
 * Evaluation: how well a model's threshold separates labeled anomalies from normal readings
 * (precision, recall, F1), and how a candidate compares with the champion on the same holdout.
 */
import { type Model, scoreReading } from '@fleetpipe/core'
import type { DatasetRow } from './dataset.ts'
import { inHoldout } from './reservoir.ts'

const BIN_WIDTH = 0.05
const BINS = 2_000 // scores 0–100; the last bin holds everything above

/** Scores in fixed bins, by label: what threshold choice and confusion counts need, in fixed memory. */
export class ScoreHistogram {
  readonly normal = new Float64Array(BINS)
  readonly anomalous = new Float64Array(BINS)
  readonly unlabeled = new Float64Array(BINS)

  add(score: number, label: boolean | undefined): void {
    const bin = Math.min(BINS - 1, Math.max(0, Math.floor(score / BIN_WIDTH)))
    const counts = label === true ? this.anomalous : label === false ? this.normal : this.unlabeled
    counts[bin] = (counts[bin] as number) + 1
  }

  hasBothLabels(): boolean {
    return this.anomalous.some((n) => n > 0) && this.normal.some((n) => n > 0)
  }

  /** The threshold (a bin edge) with the best F1; the middle of a run of equally good ones. */
  bestF1Threshold(): number {
    const above = (counts: Float64Array) => {
      const out = new Float64Array(BINS + 1)
      for (let b = BINS - 1; b >= 0; b--) out[b] = (out[b + 1] as number) + (counts[b] as number)
      return out
    }
    const tpAbove = above(this.anomalous)
    const fpAbove = above(this.normal)
    const anomalies = tpAbove[0] as number
    let best = -1
    let first = 1
    let last = 1
    for (let edge = 1; edge < BINS; edge++) {
      const tp = tpAbove[edge] as number
      const fp = fpAbove[edge] as number
      const f1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + (anomalies - tp))
      if (f1 > best + 1e-12) {
        best = f1
        first = edge
        last = edge
      } else if (Math.abs(f1 - best) <= 1e-12 && last === edge - 1) last = edge
    }
    return Math.round(((first + last) / 2) * BIN_WIDTH * 1000) / 1000
  }

  /** The lowest bin edge above which at most `rate` of all scores lie. */
  quantileThreshold(rate: number): number {
    let total = 0
    for (let b = 0; b < BINS; b++)
      total += (this.normal[b] as number) + (this.anomalous[b] as number) + (this.unlabeled[b] as number)
    let above = total
    for (let edge = 0; edge < BINS; edge++) {
      if (above <= rate * total) return edge * BIN_WIDTH
      above -=
        (this.normal[edge] as number) + (this.anomalous[edge] as number) + (this.unlabeled[edge] as number)
    }
    return BINS * BIN_WIDTH
  }
}

export interface Scores {
  rows: number
  labeled: number
  anomalies: number
  flagged: number
  flaggedRate: number
  tp: number
  fp: number
  fn: number
  tn: number
  /** Of labeled rows; 0 when undefined (nothing flagged, or no anomaly). */
  precision: number
  recall: number
  f1: number
}

/** Confusion counts of a histogram at `threshold` (bin resolution). */
export function confusion(histogram: ScoreHistogram, threshold: number): Scores {
  const counter = new Counter(threshold)
  for (let b = 0; b < BINS; b++) {
    // A bin's lower edge stands for its scores: thresholds are bin edges, so this is exact.
    const score = b * BIN_WIDTH + BIN_WIDTH / 2
    counter.count(score, true, histogram.anomalous[b] as number)
    counter.count(score, false, histogram.normal[b] as number)
    counter.count(score, undefined, histogram.unlabeled[b] as number)
  }
  return counter.scores()
}

/** Counts flagged readings against labels, for one model at one threshold. */
export class Counter {
  rows = 0
  flagged = 0
  tp = 0
  fp = 0
  fn = 0
  tn = 0

  constructor(readonly threshold: number) {}

  count(score: number | undefined, label: boolean | undefined, times = 1): void {
    if (times === 0) return
    const flag = score !== undefined && score > this.threshold
    this.rows += times
    if (flag) this.flagged += times
    if (label === true) {
      if (flag) this.tp += times
      else this.fn += times
    } else if (label === false) {
      if (flag) this.fp += times
      else this.tn += times
    }
  }

  scores(): Scores {
    const { rows, flagged, tp, fp, fn, tn } = this
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp)
    const recall = tp + fn === 0 ? 0 : tp / (tp + fn)
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall)
    return {
      rows,
      labeled: tp + fp + fn + tn,
      anomalies: tp + fn,
      flagged,
      flaggedRate: rows === 0 ? 0 : flagged / rows,
      tp,
      fp,
      fn,
      tn,
      precision: round(precision),
      recall: round(recall),
      f1: round(f1),
    }
  }
}

export interface Comparison {
  candidate: Scores & { version: string; threshold: number }
  champion?: Scores & { version: string; threshold: number }
  /**
   * `f1` when the holdout has labeled anomalies and normal readings; else `flagged-rate`: the model
   * whose flagged share is nearer the expected anomaly rate is the better one.
   */
  basis: 'f1' | 'flagged-rate'
  /** The candidate's quality minus the champion's (the candidate's own when there is no champion). */
  improvement: number
}

/** Scores candidate and champion on the holdout rows, in one pass. */
export async function compareOnHoldout(
  rows: AsyncIterable<DatasetRow>,
  models: { candidate: Model; champion?: Model },
  options: { holdoutPercent: number; expectedAnomalyRate: number },
): Promise<Comparison> {
  const candidate = new Counter(models.candidate.threshold)
  const champion = models.champion ? new Counter(models.champion.threshold) : undefined
  for await (const row of rows) {
    if (!inHoldout(row.reading, options.holdoutPercent)) continue
    const { metrics, ts } = row.reading
    candidate.count(scoreReading(models.candidate, metrics, ts), row.label)
    if (champion && models.champion) champion.count(scoreReading(models.champion, metrics, ts), row.label)
  }
  const c = candidate.scores()
  const h = champion?.scores()
  const basis = c.anomalies > 0 && c.labeled > c.anomalies ? 'f1' : 'flagged-rate'
  const quality = (s: Scores) =>
    basis === 'f1' ? s.f1 : 1 - Math.abs(s.flaggedRate - options.expectedAnomalyRate)
  return {
    candidate: { ...c, version: models.candidate.version, threshold: models.candidate.threshold },
    ...(h && models.champion
      ? { champion: { ...h, version: models.champion.version, threshold: models.champion.threshold } }
      : {}),
    basis,
    improvement: round(h ? quality(c) - quality(h) : quality(c)),
  }
}

const round = (x: number) => Math.round(x * 10_000) / 10_000
