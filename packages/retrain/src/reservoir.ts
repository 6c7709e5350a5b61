import type { Reading } from '@fleetpipe/core'

/**
 * A uniform sample of a stream of numbers in fixed memory (Vitter's Algorithm R): after n values,
 * each has had the same chance, size/n, to be kept. Medians and MADs are computed from the sample;
 * exact while a stream is no longer than the reservoir, and within a few percent of a quantile's
 * rank beyond it (the error of a 4,096 sample's median rank is about ±0.8 % at one sigma).
 *
 * Chosen over a streaming histogram or t-digest because MAD needs a second pass over the values
 * around the median, which a kept sample gives for free, and the size bound is a single number.
 * Seeded, so training the same dataset twice gives the same model.
 */
export class Reservoir {
  readonly values: Float64Array
  seen = 0

  constructor(
    readonly size: number,
    private readonly random: () => number,
  ) {
    this.values = new Float64Array(size)
  }

  add(value: number): void {
    if (this.seen < this.size) this.values[this.seen] = value
    else {
      const slot = Math.floor(this.random() * (this.seen + 1))
      if (slot < this.size) this.values[slot] = value
    }
    this.seen++
  }

  /** The kept values, sorted (a copy). */
  sorted(): Float64Array {
    return this.values.slice(0, Math.min(this.seen, this.size)).sort()
  }
}

/** Median and median absolute deviation of a sorted sample; undefined when it is empty. */
export function medianMad(sorted: Float64Array): { median: number; mad: number } | undefined {
  if (sorted.length === 0) return undefined
  const median = quantileSorted(sorted, 0.5)
  const deviations = sorted.map((value) => Math.abs(value - median)).sort()
  return { median, mad: quantileSorted(deviations, 0.5) }
}

function quantileSorted(sorted: Float64Array, q: number): number {
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  const high = Math.ceil(at)
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (at - low)
}

/** mulberry32: a small, fast, seedable generator, good enough for sampling. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Whether a row is held out of training for evaluation: a stable hash, so every pass agrees. */
export function inHoldout(reading: Reading, holdoutPercent: number): boolean {
  return fnv1a(`${reading.deviceId}|${reading.boot}|${reading.seq}|${reading.ts}`) % 100 < holdoutPercent
}

/** FNV-1a, 32 bits: a stable hash for seeds and the holdout split. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}
