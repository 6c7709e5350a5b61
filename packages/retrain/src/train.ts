/**
 * Training a `fleetpipe.model/1` model from a dataset, in three streaming passes and bounded memory:
 *
 * 1. baselines — per metric (and per metric and UTC hour) a reservoir sample of the training
 *    readings not labeled anomalous, whose median and MAD become the robust baselines;
 * 2. covariance — the second moments of the readings' robust z-scores (k×k sums), whose inverse is
 *    the `precision` matrix of the Mahalanobis score;
 * 3. threshold — a histogram of the training readings' scores, by label, from which the threshold is
 *    chosen: the F1-best one with labels, else the one flagging `expectedAnomalyRate` of readings.
 *
 * Memory is the reservoirs (metrics × (size + 24 × hour size) numbers), a k×k matrix and two
 * fixed histograms, whatever the number of rows. Rows in the holdout (see `inHoldout`) are skipped:
 * they are Evaluate's.
 */
import {
  DEVICE_TYPE_PATTERN,
  MAX_METRICS,
  MODEL_FORMAT,
  type Model,
  parseModel,
  robustZ,
  scoreReading,
} from '@fleetpipe/core'
import type { RetrainConfig } from './config.ts'
import type { DatasetRow } from './dataset.ts'
import { DatasetError } from './errors.ts'
import { confusion, ScoreHistogram } from './evaluate.ts'
import { inHoldout, medianMad, Reservoir, seededRandom } from './reservoir.ts'

/** How many distinct metric names a dataset may carry before it is refused: bounds the reservoirs. */
export const MAX_DATASET_METRICS = 4 * MAX_METRICS

export interface TrainOptions {
  deviceType: string
  version: string
  trainedAt: number
  /** Seeds the reservoirs: the same dataset and seed give the same model. */
  seed: number
  config: RetrainConfig
}

/** `open` is called once per pass and must stream the same rows each time. */
export async function train(open: () => AsyncIterable<DatasetRow>, options: TrainOptions): Promise<Model> {
  const { config } = options
  if (!DEVICE_TYPE_PATTERN.test(options.deviceType))
    throw new DatasetError(`device type ${JSON.stringify(options.deviceType)} is not [a-z][a-z0-9-]{0,31}`)
  const trainingRow = (row: DatasetRow) => !inHoldout(row.reading, config.holdoutPercent)

  // Pass 1: baselines from readings not labeled anomalous.
  const random = seededRandom(options.seed)
  const overall = new Map<string, Reservoir>()
  const hourly = new Map<string, Reservoir[]>()
  let normalRows = 0
  for await (const row of open()) {
    if (!trainingRow(row) || row.label === true) continue
    normalRows++
    const hour = new Date(row.reading.ts).getUTCHours()
    for (const [metric, value] of Object.entries(row.reading.metrics)) {
      let reservoir = overall.get(metric)
      if (!reservoir) {
        if (overall.size >= MAX_DATASET_METRICS)
          throw new DatasetError(`more than ${MAX_DATASET_METRICS} distinct metrics`, row.line)
        reservoir = new Reservoir(config.reservoirSize, random)
        overall.set(metric, reservoir)
        hourly.set(
          metric,
          Array.from({ length: 24 }, () => new Reservoir(config.hourReservoirSize, random)),
        )
      }
      reservoir.add(value)
      hourly.get(metric)?.[hour]?.add(value)
    }
  }
  if (normalRows === 0) throw new DatasetError('no training rows: every row is held out or labeled anomalous')
  const metrics = [...overall.entries()]
    .filter(([, reservoir]) => reservoir.seen >= config.minPresence * normalRows)
    .map(([metric]) => metric)
    .sort()
    .slice(0, MAX_METRICS)
  if (metrics.length === 0)
    throw new DatasetError(`no metric is carried by ${config.minPresence * 100}% of the training rows`)

  const baselines: Model['baselines'] = {}
  for (const metric of metrics) {
    const base = medianMad((overall.get(metric) as Reservoir).sorted()) as { median: number; mad: number }
    const hours = hourly.get(metric) as Reservoir[]
    const hourBaselines = hours.map((r) => medianMad(r.sorted()))
    const everyHour = hours.every((r) => r.seen >= config.minHourSamples)
    const useHours = config.byHour === 'always' || (config.byHour === 'auto' && everyHour)
    baselines[metric] = useHours
      ? {
          ...base,
          byHour: hourBaselines.map((b, hour) =>
            b && (hours[hour] as Reservoir).seen >= config.minHourSamples ? b : base,
          ),
        }
      : base
  }
  let model: Model = {
    format: MODEL_FORMAT,
    deviceType: options.deviceType,
    version: options.version,
    trainedAt: options.trainedAt,
    metrics,
    baselines,
    threshold: config.minThreshold,
  }

  // Pass 2: second moments of the z-scores, for the Mahalanobis score.
  const k = metrics.length
  if (config.mahalanobis && k >= 2) {
    const moments = Array.from({ length: k }, () => new Float64Array(k))
    let n = 0
    const z = new Float64Array(k)
    for await (const row of open()) {
      if (!trainingRow(row) || row.label === true) continue
      n++
      for (let i = 0; i < k; i++) {
        const metric = metrics[i] as string
        const value = row.reading.metrics[metric]
        z[i] = value === undefined ? 0 : robustZ(model, metric, value, row.reading.ts)
      }
      for (let i = 0; i < k; i++) {
        const moment = moments[i] as Float64Array
        for (let j = 0; j < k; j++) moment[j] = (moment[j] as number) + (z[i] as number) * (z[j] as number)
      }
    }
    const covariance = moments.map((row) => Array.from(row, (sum) => sum / n))
    model = { ...model, precision: invert(covariance) }
  }

  // Pass 3: scores of all training rows, by label, for the threshold.
  const histogram = new ScoreHistogram()
  let trainRows = 0
  for await (const row of open()) {
    if (!trainingRow(row)) continue
    trainRows++
    const score = scoreReading(model, row.reading.metrics, row.reading.ts)
    if (score !== undefined) histogram.add(score, row.label)
  }
  const chosen = histogram.hasBothLabels()
    ? { value: histogram.bestF1Threshold(), chosenBy: 'max-f1' as const }
    : {
        value: Math.max(config.minThreshold, histogram.quantileThreshold(config.expectedAnomalyRate)),
        chosenBy: 'expected-rate' as const,
      }
  const train = confusion(histogram, chosen.value)
  return parseModel({
    ...model,
    threshold: chosen.value,
    evaluation: {
      threshold: chosen,
      train: {
        rows: trainRows,
        labeled: train.labeled,
        anomalies: train.anomalies,
        precision: train.precision,
        recall: train.recall,
        f1: train.f1,
      },
      sample: { method: 'reservoir', size: config.reservoirSize, hourSize: config.hourReservoirSize },
      byHour: metrics.some((m) => baselines[m]?.byHour !== undefined),
    },
  })
}

/**
 * The inverse of a symmetric positive semi-definite matrix, by Gauss-Jordan elimination with partial
 * pivoting, after a small ridge on the diagonal: a constant metric (MAD 0) or two identical ones
 * make the covariance singular, and the ridge keeps their precision large but finite.
 */
export function invert(matrix: number[][]): number[][] {
  const k = matrix.length
  const trace = matrix.reduce((sum, row, i) => sum + (row[i] as number), 0)
  const ridge = 1e-6 * (trace / k) + 1e-9
  const a = matrix.map((row, i) => [
    ...row.map((v, j) => (i === j ? v + ridge : v)),
    ...row.map((_, j) => (i === j ? 1 : 0)),
  ])
  for (let col = 0; col < k; col++) {
    let pivot = col
    for (let r = col + 1; r < k; r++)
      if (Math.abs(a[r]?.[col] as number) > Math.abs(a[pivot]?.[col] as number)) pivot = r
    ;[a[col], a[pivot]] = [a[pivot] as number[], a[col] as number[]]
    const pivotRow = a[col] as number[]
    const p = pivotRow[col] as number
    for (let j = 0; j < 2 * k; j++) pivotRow[j] = (pivotRow[j] as number) / p
    for (let r = 0; r < k; r++) {
      if (r === col) continue
      const row = a[r] as number[]
      const factor = row[col] as number
      if (factor === 0) continue
      for (let j = 0; j < 2 * k; j++) row[j] = (row[j] as number) - factor * (pivotRow[j] as number)
    }
  }
  return a.map((row) => row.slice(k))
}
