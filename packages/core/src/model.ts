/**
 * Trained models, as the model-score rule consumes them. A model is data — a JSON document the
 * retraining pipeline writes — and scoring is a pure function here, so every cloud scores alike.
 *
 * Format `fleetpipe.model/1`: per metric a robust baseline (median and MAD, optionally one per hour
 * of day, UTC); a reading's score is the root mean square of its metrics' robust z-scores
 * (|x − median| / (1.4826 · MAD)), or, with `precision` (the inverse covariance of those z-scores),
 * the Mahalanobis distance sqrt(zᵀ·P·z) / sqrt(k). A reading scoring above `threshold` is anomalous.
 */
import * as z from 'zod/mini'
import './_zod-messages.ts'
import { METRIC_NAME_PATTERN } from './wire.ts'

export const MODEL_FORMAT = 'fleetpipe.model/1'
/** Scales a MAD to a standard deviation for normally distributed data. */
export const MAD_SCALE = 1.4826

const Baseline = z.object({
  median: z.number(),
  mad: z.number().check(z.nonnegative()),
})

const MetricModel = z.extend(Baseline, {
  /** 24 baselines, index = UTC hour; overrides the overall one for readings in that hour. */
  byHour: z.optional(z.array(Baseline).check(z.length(24))),
})

export const DEVICE_TYPE_PATTERN = /^[a-z][a-z0-9-]{0,31}$/

export const ModelSchema = z
  .object({
    format: z.literal(MODEL_FORMAT),
    deviceType: z.string().check(z.regex(DEVICE_TYPE_PATTERN)),
    version: z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/)),
    trainedAt: z.int().check(z.minimum(0)),
    /** In the order `precision` indexes them. */
    metrics: z.array(z.string().check(z.regex(METRIC_NAME_PATTERN))).check(z.minLength(1)),
    baselines: z.record(z.string(), MetricModel),
    precision: z.optional(z.array(z.array(z.number()))),
    threshold: z.number().check(z.positive()),
    /** What training measured, for people: precision/recall/F1 on the holdout, rows seen. */
    evaluation: z.optional(z.record(z.string(), z.unknown())),
  })
  .check(
    z.superRefine((model, ctx) => {
      for (const metric of model.metrics) {
        if (!model.baselines[metric])
          ctx.addIssue({ code: 'custom', path: ['baselines', metric], message: 'missing baseline' })
      }
      const k = model.metrics.length
      if (
        model.precision &&
        (model.precision.length !== k || model.precision.some((row) => row.length !== k))
      )
        ctx.addIssue({ code: 'custom', path: ['precision'], message: `must be a ${k}×${k} matrix` })
    }),
  )

export type Model = z.infer<typeof ModelSchema>

/** Parses a model document; throws with the field at fault. */
export function parseModel(input: unknown): Model {
  const parsed = ModelSchema.safeParse(input)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  throw new ModelError(`invalid model — ${issue?.path.join('.') || '(root)'}: ${issue?.message}`)
}

export class ModelError extends Error {
  override name = 'ModelError'
}

/** The robust z-score of one metric's value, against the baseline for the reading's hour. */
export function robustZ(model: Model, metric: string, value: number, ts: number): number {
  const metricModel = model.baselines[metric]
  if (!metricModel) return 0
  const baseline = metricModel.byHour?.[new Date(ts).getUTCHours()] ?? metricModel
  // A flat training signal has MAD 0: any change is then as surprising as one scaled MAD.
  const spread = MAD_SCALE * baseline.mad || 1e-9
  return (value - baseline.median) / spread
}

/**
 * A reading's anomaly score under the model; undefined when the reading carries none of the model's
 * metrics. Missing metrics count as at their median (z = 0).
 */
export function scoreReading(model: Model, metrics: Record<string, number>, ts: number): number | undefined {
  const k = model.metrics.length
  const zs = new Array<number>(k)
  let present = 0
  for (let i = 0; i < k; i++) {
    const name = model.metrics[i] as string
    const value = metrics[name]
    if (value === undefined) zs[i] = 0
    else {
      zs[i] = robustZ(model, name, value, ts)
      present++
    }
  }
  if (present === 0) return undefined
  let sum = 0
  if (model.precision) {
    for (let i = 0; i < k; i++) {
      const row = model.precision[i] as number[]
      let dot = 0
      for (let j = 0; j < k; j++) dot += (row[j] as number) * (zs[j] as number)
      sum += (zs[i] as number) * dot
    }
  } else {
    for (let i = 0; i < k; i++) sum += (zs[i] as number) ** 2
  }
  return Math.sqrt(Math.max(0, sum) / k)
}
