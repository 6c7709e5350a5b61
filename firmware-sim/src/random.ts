/** A seeded PRNG (mulberry32), so a simulated run can be replayed exactly from its seed. */
export class Random {
  #state: number
  #spareNormal: number | undefined

  constructor(seed: number) {
    this.#state = seed >>> 0
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0
    let t = this.#state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next()
  }

  /** Gaussian by Box–Muller; each pair of uniforms yields two normals, the second kept for the next call. */
  normal(mean = 0, sd = 1): number {
    if (this.#spareNormal !== undefined) {
      const z = this.#spareNormal
      this.#spareNormal = undefined
      return mean + sd * z
    }
    // 1 - next() lies in (0, 1], so the logarithm stays finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.next()))
    const angle = 2 * Math.PI * this.next()
    this.#spareNormal = radius * Math.sin(angle)
    return mean + sd * radius * Math.cos(angle)
  }

  chance(probability: number): boolean {
    return this.next() < probability
  }

  hex(length: number): string {
    let out = ''
    for (let i = 0; i < length; i++) out += Math.floor(this.next() * 16).toString(16)
    return out
  }
}

/** A seed for the index-th member of a group, so members draw independent streams from one seed. */
export function seedFor(seed: number, index: number): number {
  // murmur3's finaliser: neighbouring inputs give unrelated outputs.
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}
