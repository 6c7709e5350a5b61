/**
 * Synthetic motor-node datasets for the retraining tests: a few devices, readings every 10 s,
 * temperature with a daily swing, vibration and a duty-cycled current; labeled overheat episodes
 * (temperature near 90 °C) at a chosen share of readings. Drawn from a seeded generator.
 */
import type { Reading } from '@fleetpipe/core'
import { datasetLines, inHoldout } from '../src/index.ts'

export const START = Date.UTC(2026, 10, 23, 0, 0, 0)

export interface SyntheticOptions {
  devices?: number
  readingsPerDevice?: number
  anomalyShare?: number
  seed?: number
  /** Degrees added to every normal temperature (a recalibrated probe, a hotter season). */
  shift?: number
  /** Label the training part's anomalies as normal: a mislabeled dataset trains a worse model. */
  mislabelTraining?: boolean
  /** Leave the label column out. */
  unlabeled?: boolean
  stepMs?: number
}

export function syntheticRows(options: SyntheticOptions = {}): { reading: Reading; label?: boolean }[] {
  const {
    devices = 4,
    readingsPerDevice = 500,
    anomalyShare = 0.03,
    seed = 7,
    shift = 0,
    stepMs = 10_000,
  } = options
  let state = seed >>> 0
  const random = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state / 4_294_967_296
  }
  const normal = (mean: number, sd: number) =>
    mean + sd * Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random())
  const rows: { reading: Reading; label?: boolean }[] = []
  for (let i = 0; i < readingsPerDevice; i++) {
    for (let d = 0; d < devices; d++) {
      const ts = START + i * stepMs + d * 100
      const daily = Math.sin((2 * Math.PI * ts) / 86_400_000)
      const anomalous = random() < anomalyShare
      const reading: Reading = {
        deviceId: `motor-${d}`,
        boot: 'b1',
        seq: i,
        ts,
        metrics: {
          temperature: round(anomalous ? normal(90, 1) : normal(34 + shift + 2 * daily, 0.5)),
          vibration: round(normal(0.15, 0.02)),
          current: round(i % 10 < 6 ? normal(4, 0.1) : normal(0.3, 0.03)),
        },
      }
      const label = options.mislabelTraining && !inHoldout(reading, 20) ? false : anomalous
      rows.push(options.unlabeled ? { reading } : { reading, label })
    }
  }
  return rows
}

export function ndjson(rows: ReturnType<typeof syntheticRows>): string {
  return [...datasetLines(rows, { format: 'ndjson' })].join('')
}

export function csv(rows: ReturnType<typeof syntheticRows>): string {
  return [...datasetLines(rows, { format: 'csv' })].join('')
}

/** A text as a stream of chunks of `size` bytes, cutting through lines and characters. */
export async function* chunked(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text)
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

const round = (x: number) => Math.round(x * 1000) / 1000
