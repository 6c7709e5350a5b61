/**
 * What a retraining run is tuned by. The state machine carries it (its first state, `Configure`,
 * puts it in the execution's input), so a run's settings are in its history and the cloud and
 * local runs of one definition agree.
 */
import * as z from 'zod/mini'

export const RetrainConfigSchema = z.object({
  /** Promote a candidate only when it beats the champion by this much (F1, or flagged-rate points without labels). */
  minImprovement: z._default(z.number().check(z.minimum(0), z.maximum(1)), 0.01),
  /** Share of rows (by a hash of device, boot, seq and ts) kept out of training, to evaluate on. */
  holdoutPercent: z._default(z.int().check(z.minimum(1), z.maximum(90)), 20),
  /** Readings per metric kept for its median and MAD (the reservoir sample's size). */
  reservoirSize: z._default(z.int().check(z.minimum(64), z.maximum(1_000_000)), 4096),
  /** The same, per metric and hour of day. */
  hourReservoirSize: z._default(z.int().check(z.minimum(16), z.maximum(100_000)), 512),
  /** Baselines per hour of day: when every hour has enough readings (`auto`), always, or never. */
  byHour: z._default(z.enum(['auto', 'always', 'never']), 'auto'),
  /** Readings an hour needs for `auto` to use hourly baselines. */
  minHourSamples: z._default(z.int().check(z.minimum(1)), 30),
  /** A multivariate (Mahalanobis) score when the model has two metrics or more. */
  mahalanobis: z._default(z.boolean(), true),
  /** Without labels, the threshold flags about this share of training readings. */
  expectedAnomalyRate: z._default(z.number().check(z.positive(), z.maximum(0.5)), 0.01),
  /** The lowest threshold an unlabeled dataset may set: below it, clean data would raise alerts. */
  minThreshold: z._default(z.number().check(z.positive()), 3),
  /** A metric is modelled when at least this share of training readings carries it. */
  minPresence: z._default(z.number().check(z.positive(), z.maximum(1)), 0.5),
  /** A dataset larger than this is refused (bytes). */
  maxDatasetBytes: z._default(z.int().check(z.positive()), 1024 * 1024 * 1024),
})

export type RetrainConfig = z.infer<typeof RetrainConfigSchema>
export type RetrainConfigInput = z.input<typeof RetrainConfigSchema>

export function retrainConfig(input: RetrainConfigInput = {}): RetrainConfig {
  return RetrainConfigSchema.parse(input)
}
