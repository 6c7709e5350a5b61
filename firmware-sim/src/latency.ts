/**
 * Acknowledgement latencies in a fixed histogram: constant memory and O(1) per sample however many
 * publishes a run makes. Buckets grow by 5 %, so a percentile is within 5 % of the true value.
 */
const GROWTH = 1.05
const SMALLEST_MS = 0.05
const BUCKETS = Math.ceil(Math.log(600_000 / SMALLEST_MS) / Math.log(GROWTH)) + 1

export class LatencyHistogram {
  #counts = new Uint32Array(BUCKETS)
  #total = 0
  #max = 0

  get count(): number {
    return this.#total
  }

  /** The largest sample, exactly; undefined before any. */
  get max(): number | undefined {
    return this.#total === 0 ? undefined : Math.round(this.#max * 100) / 100
  }

  record(ms: number): void {
    if (ms > this.#max) this.#max = ms
    const index = ms <= SMALLEST_MS ? 0 : Math.ceil(Math.log(ms / SMALLEST_MS) / Math.log(GROWTH))
    const bucket = Math.min(index, BUCKETS - 1)
    this.#counts[bucket] = (this.#counts[bucket] ?? 0) + 1
    this.#total++
  }

  reset(): void {
    this.#counts.fill(0)
    this.#total = 0
    this.#max = 0
  }

  /** The upper bound of the bucket holding quantile `q` (0–1), in ms; undefined before any sample. */
  quantile(q: number): number | undefined {
    if (this.#total === 0) return undefined
    const rank = Math.max(1, Math.ceil(q * this.#total))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] ?? 0
      if (seen >= rank) return Math.round(SMALLEST_MS * GROWTH ** i * 100) / 100
    }
    return undefined
  }
}
