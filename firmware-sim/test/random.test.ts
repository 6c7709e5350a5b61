import { describe, expect, it } from 'vitest'
import { Random, seedFor } from '../src/index.ts'

function draw(random: Random, count: number) {
  return Array.from({ length: count }, () => random.next())
}

describe('Random', () => {
  it('repeats its sequence for a seed and differs for another', () => {
    expect(draw(new Random(7), 50)).toEqual(draw(new Random(7), 50))
    expect(draw(new Random(7), 50)).not.toEqual(draw(new Random(8), 50))
  })

  it('draws uniforms in [0, 1) and normals with the asked mean and spread', () => {
    const random = new Random(11)
    const uniforms = draw(random, 10_000)
    expect(Math.min(...uniforms)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...uniforms)).toBeLessThan(1)
    const normals = Array.from({ length: 20_000 }, () => random.normal(10, 2))
    const mean = normals.reduce((a, b) => a + b, 0) / normals.length
    const sd = Math.sqrt(normals.reduce((a, b) => a + (b - mean) ** 2, 0) / normals.length)
    expect(mean).toBeCloseTo(10, 1)
    expect(sd).toBeGreaterThan(1.9)
    expect(sd).toBeLessThan(2.1)
    expect(normals.every(Number.isFinite)).toBe(true)
  })

  it('gives every member of a group its own seed', () => {
    const seeds = Array.from({ length: 1_000 }, (_, i) => seedFor(1, i))
    expect(new Set(seeds).size).toBe(1_000)
    expect(seedFor(1, 0)).toBe(seedFor(1, 0))
    expect(seedFor(2, 0)).not.toBe(seedFor(1, 0))
  })
})
