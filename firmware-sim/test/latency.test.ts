import { describe, expect, it } from 'vitest'
import { LatencyHistogram } from '../src/index.ts'

describe('LatencyHistogram', () => {
  it('has no percentiles before a sample', () => {
    expect(new LatencyHistogram().quantile(0.5)).toBeUndefined()
  })

  it('gives percentiles within 5 % of the true values', () => {
    const histogram = new LatencyHistogram()
    for (let ms = 1; ms <= 1000; ms++) histogram.record(ms)
    expect(histogram.count).toBe(1000)
    const p50 = histogram.quantile(0.5) as number
    const p99 = histogram.quantile(0.99) as number
    expect(p50).toBeGreaterThanOrEqual(500)
    expect(p50).toBeLessThanOrEqual(500 * 1.05)
    expect(p99).toBeGreaterThanOrEqual(990)
    expect(p99).toBeLessThanOrEqual(990 * 1.05)
  })

  it('keeps sub-millisecond and very slow acks apart', () => {
    const histogram = new LatencyHistogram()
    histogram.record(0.01)
    histogram.record(0.3)
    histogram.record(3_600_000)
    expect(histogram.quantile(0)).toBe(0.05)
    expect(histogram.quantile(0.5)).toBeLessThan(0.32)
    expect(histogram.quantile(1)).toBeGreaterThan(500_000)
  })
})
