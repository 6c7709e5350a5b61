/**
 * The fleet's clock: decides which devices take a reading at each tick and when overheat episodes
 * start. Time comes in through `tick(now)`, so the schedule runs the same under a fake clock.
 */
import type { TelemetryInput } from '@fleetpipe/core'
import type { SimDevice } from './device.ts'
import type { Random } from './random.ts'

export interface SchedulerOptions {
  rateHz: number
  /** Probability per device per second that an overheat episode starts; 0 turns anomalies off. */
  anomalyChance: number
  random: Random
  /** When the first period begins. */
  start: number
  /** Episode length in seconds, drawn uniformly from this range. */
  episodeSeconds?: readonly [number, number]
  /**
   * The device's own clock at true time `now`, which its reading is stamped with; undefined when
   * it has no time to give (not synced since boot, or powered off), and it takes no reading.
   */
  clock?: (index: number, now: number) => number | undefined
}

/** `lateMs`: how long after its slot the reading was taken (the tick jitter). */
export type Emit = (index: number, reading: TelemetryInput, lateMs: number) => void

/** Unless anomalies are off, one episode starts by then, so a short local run shows an alert. */
const GUARANTEED_EPISODE_WINDOW_MS: readonly [number, number] = [1_000, 4_000]

export class FleetScheduler {
  readonly periodMs: number
  #devices: readonly SimDevice[]
  #emit: Emit
  #random: Random
  #due: number[]
  #episodeChance: number
  #episodeSeconds: readonly [number, number]
  #rateHz: number
  #periods: Float64Array | undefined
  #clock: SchedulerOptions['clock']
  #guaranteeAt: number | undefined
  #episodes = 0

  constructor(devices: readonly SimDevice[], options: SchedulerOptions, emit: Emit) {
    const { rateHz, anomalyChance, random, start } = options
    this.#devices = devices
    this.#emit = emit
    this.#random = random
    this.#rateHz = rateHz
    this.#clock = options.clock
    this.periodMs = 1000 / rateHz
    this.#due = devices.map((_, i) => start + (i * this.periodMs) / devices.length)
    // A per-second chance spread over rateHz readings: 1 - (1 - p)^(1 / rateHz).
    this.#episodeChance = anomalyChance >= 1 ? 1 : 1 - (1 - anomalyChance) ** (1 / rateHz)
    this.#episodeSeconds = options.episodeSeconds ?? [20, 60]
    if (anomalyChance > 0 && devices.length > 0) {
      this.#guaranteeAt = start + random.uniform(...GUARANTEED_EPISODE_WINDOW_MS)
    }
  }

  /** How often to call `tick`: fine enough that a reading is at most this late. */
  get tickMs(): number {
    return Math.min(10, Math.max(1, this.periodMs / 20))
  }

  /** Episodes started so far. */
  get episodes(): number {
    return this.#episodes
  }

  /** Takes a reading from every device that is due; returns how many. */
  tick(now: number): number {
    let emitted = 0
    for (let i = 0; i < this.#devices.length; i++) {
      const due = this.#due[i]
      const device = this.#devices[i]
      if (due === undefined || device === undefined || due > now) continue
      const period = this.#periods?.[i] ?? this.periodMs
      // After a stall, missed slots are skipped rather than burst, and each device keeps its phase.
      this.#due[i] = due + (Math.floor((now - due) / period) + 1) * period
      const ts = this.#clock ? this.#clock(i, now) : now
      if (ts === undefined) continue
      this.#maybeOverheat(device, now)
      this.#emit(i, device.nextReading(ts), now - due)
      emitted++
    }
    return emitted
  }

  /** Changes one device's reading period (a set-interval command); its next slot moves with it. */
  setPeriod(index: number, periodMs: number, now: number): void {
    if (!(periodMs > 0)) throw new RangeError(`period must be above 0 ms, got ${periodMs}`)
    this.#periods ??= new Float64Array(this.#devices.length).fill(this.periodMs)
    this.#periods[index] = periodMs
    this.#due[index] = now + periodMs
  }

  #maybeOverheat(device: SimDevice, now: number): void {
    if (device.overheating) return
    const guaranteed = this.#guaranteeAt !== undefined && now >= this.#guaranteeAt
    if (!guaranteed && !this.#random.chance(this.#episodeChance)) return
    const seconds = this.#random.uniform(...this.#episodeSeconds)
    if (device.startOverheat(Math.max(1, Math.round(seconds * this.#rateHz)))) {
      this.#episodes++
      this.#guaranteeAt = undefined
    }
  }
}
