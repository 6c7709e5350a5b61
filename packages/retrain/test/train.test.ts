import { parseModel, scoreReading } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { DatasetError, type DatasetRow, invert, retrainConfig, train } from '../src/index.ts'
import { Reservoir, seededRandom } from '../src/reservoir.ts'
import { START, syntheticRows } from './_data.ts'

const config = retrainConfig()
const options = { deviceType: 'motor', version: 'v1', trainedAt: START, seed: 1, config }

/** A dataset as `train` opens it, counting the passes. */
function source(rows: { reading: DatasetRow['reading']; label?: boolean }[]) {
  const opened = { count: 0 }
  const open = () => {
    opened.count++
    return (async function* () {
      for (const [i, row] of rows.entries()) yield { ...row, line: i + 1 }
    })()
  }
  return { open, opened }
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = (sorted.length - 1) / 2
  return ((sorted[Math.floor(mid)] as number) + (sorted[Math.ceil(mid)] as number)) / 2
}

describe('train', () => {
  it('sets each baseline to the median and MAD of the normal training readings (exact below the reservoir size)', async () => {
    const rows = syntheticRows({ devices: 3, readingsPerDevice: 300 })
    const { open, opened } = source(rows)
    const model = await train(open, { ...options, config: { ...config, holdoutPercent: 1 } })
    expect(opened.count).toBe(3)
    const training = await (async () => {
      const out: number[] = []
      for await (const row of open()) {
        const { inHoldout } = await import('../src/index.ts')
        if (!inHoldout(row.reading, 1) && row.label !== true)
          out.push(row.reading.metrics.temperature as number)
      }
      return out
    })()
    const median = medianOf(training)
    expect(model.baselines.temperature?.median).toBeCloseTo(median, 10)
    expect(model.baselines.temperature?.mad).toBeCloseTo(
      medianOf(training.map((t) => Math.abs(t - median))),
      10,
    )
    expect(model.metrics).toEqual(['current', 'temperature', 'vibration'])
    expect(parseModel(model)).toEqual(model)
  })

  it('keeps a fixed-size sample of a long stream, whose median stays near the true one', () => {
    const reservoir = new Reservoir(1024, seededRandom(3))
    for (let i = 0; i < 200_000; i++) reservoir.add(i)
    expect(reservoir.values.length).toBe(1024)
    expect(reservoir.seen).toBe(200_000)
    const sorted = reservoir.sorted()
    const median = sorted[512] as number
    // The median of 0…199,999 is ~100,000; a 1,024 sample's median rank errs by ~1.6% at one sigma.
    expect(Math.abs(median - 100_000)).toBeLessThan(10_000)
  })

  it('separates labeled overheats: the F1-best threshold, and the precision matrix of a Mahalanobis score', async () => {
    const { open } = source(syntheticRows({ devices: 6, readingsPerDevice: 1000 }))
    const model = await train(open, options)
    expect(model.evaluation).toMatchObject({ threshold: { chosenBy: 'max-f1' }, train: { f1: 1 } })
    expect(model.precision).toHaveLength(3)
    const normal = { temperature: model.baselines.temperature?.median as number, vibration: 0.15, current: 4 }
    const hot = { ...normal, temperature: 90 }
    expect(scoreReading(model, normal, START) as number).toBeLessThan(model.threshold)
    expect(scoreReading(model, hot, START) as number).toBeGreaterThan(model.threshold)
  })

  it('without labels, flags about the expected share of training readings, never below minThreshold', async () => {
    const { open } = source(
      syntheticRows({ devices: 6, readingsPerDevice: 1000, unlabeled: true, anomalyShare: 0 }),
    )
    const model = await train(open, options)
    expect(model.evaluation).toMatchObject({ threshold: { chosenBy: 'expected-rate' } })
    expect(model.threshold).toBeGreaterThanOrEqual(config.minThreshold)
  })

  it('learns hourly baselines when every hour has enough readings', async () => {
    // One reading a minute for a day per device: 60 an hour each; the temperature follows the hour.
    const rows = syntheticRows({ devices: 2, readingsPerDevice: 1440, stepMs: 60_000 })
    const model = await train(source(rows).open, options)
    const hours = model.baselines.temperature?.byHour
    expect(hours).toHaveLength(24)
    // sin peaks at 06:00 UTC and bottoms at 18:00 in the synthetic day: the baselines follow.
    expect((hours?.[6]?.median as number) - (hours?.[18]?.median as number)).toBeGreaterThan(3)
    const short = await train(source(syntheticRows({ devices: 2, readingsPerDevice: 100 })).open, options)
    expect(short.baselines.temperature?.byHour).toBeUndefined()
  })

  it('gives the same model for the same dataset and seed', async () => {
    const rows = syntheticRows({ devices: 4, readingsPerDevice: 2000 })
    const small = { ...options, config: { ...config, reservoirSize: 256 } }
    expect(await train(source(rows).open, small)).toEqual(await train(source(rows).open, small))
  })

  it('refuses a dataset with nothing to train on', async () => {
    const allAnomalous = syntheticRows({ devices: 1, readingsPerDevice: 50 }).map((r) => ({
      ...r,
      label: true,
    }))
    await expect(train(source(allAnomalous).open, options)).rejects.toThrow(DatasetError)
    await expect(train(source([]).open, options)).rejects.toThrow(/no training rows/)
    await expect(train(source([]).open, { ...options, deviceType: 'Motor' })).rejects.toThrow(/device type/)
  })
})

describe('invert', () => {
  it('inverts a covariance matrix, and keeps a singular one finite', () => {
    const a = [
      [4, 1, 0.5],
      [1, 3, 0.2],
      [0.5, 0.2, 2],
    ]
    const inverse = invert(a)
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        const product = a[i]?.reduce((sum, v, k) => sum + v * (inverse[k]?.[j] as number), 0)
        expect(product).toBeCloseTo(i === j ? 1 : 0, 5)
      }
    const singular = invert([
      [1, 1],
      [1, 1],
    ])
    for (const row of singular) for (const v of row) expect(Number.isFinite(v)).toBe(true)
  })
})
