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
}

export type Emit = (index: number, reading: TelemetryInput) => void

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
  #guaranteeAt: number | undefined
  #episodes = 0

  constructor(devices: readonly SimDevice[], options: SchedulerOptions, emit: Emit) {
    const { rateHz, anomalyChance, random, start } = options
    this.#devices = devices
    this.#emit = emit
    this.#random = random
    this.#rateHz = rateHz
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
      // After a stall, missed slots are skipped rather than burst, and each device keeps its phase.
      this.#due[i] = due + (Math.floor((now - due) / this.periodMs) + 1) * this.periodMs
      this.#maybeOverheat(device, now)
      this.#emit(i, device.nextReading(now))
      emitted++
    }
    return emitted
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
