/**
 * A device's wall clock: set by SNTP (off by a few ms), then drifting with its crystal until the
 * next sync. ESP-IDF's SNTP client re-syncs hourly (`CONFIG_LWIP_SNTP_UPDATE_DELAY`); firmware
 * waits for the first sync before it timestamps anything.
 * https://docs.espressif.com/projects/esp-idf/en/stable/esp32/api-reference/system/system_time.html
 */
import type { Random } from './random.ts'

export interface ClockOptions {
  /** Crystal error, drawn per device from ±this many parts per million. */
  maxDriftPpm?: number
  /** Standard deviation of the error an SNTP sync leaves, in ms. */
  syncErrorMs?: number
  /** How often a connected device re-syncs. */
  syncIntervalMs?: number
}

export const DEFAULT_CLOCK: Required<ClockOptions> = {
  maxDriftPpm: 40,
  syncErrorMs: 5,
  syncIntervalMs: 3_600_000,
}

export class DeviceClock {
  readonly driftPpm: number
  readonly syncIntervalMs: number
  #random: Random
  #syncErrorMs: number
  #offsetMs = 0
  #syncedAt: number | undefined
  #syncs = 0

  constructor(random: Random, options: ClockOptions = {}) {
    const { maxDriftPpm, syncErrorMs, syncIntervalMs } = { ...DEFAULT_CLOCK, ...options }
    this.#random = random
    this.driftPpm = random.uniform(-maxDriftPpm, maxDriftPpm)
    this.#syncErrorMs = syncErrorMs
    this.syncIntervalMs = syncIntervalMs
  }

  /** Whether the clock has been set since boot: before that the firmware has no time to stamp. */
  get synced(): boolean {
    return this.#syncedAt !== undefined
  }

  get syncs(): number {
    return this.#syncs
  }

  /** The device's reading of true time `now`, whole ms; undefined before the first sync. */
  read(now: number): number | undefined {
    if (this.#syncedAt === undefined) return undefined
    return Math.round(now + this.#offsetMs + ((now - this.#syncedAt) * this.driftPpm) / 1e6)
  }

  /** How far off the clock is at `now`, in ms. */
  errorAt(now: number): number {
    return (this.read(now) ?? now) - now
  }

  /** An SNTP answer: the clock steps to true time, give or take the sync error. */
  sync(now: number): void {
    this.#offsetMs = this.#random.normal(0, this.#syncErrorMs)
    this.#syncedAt = now
    this.#syncs++
  }

  /** Whether a periodic re-sync is due. */
  due(now: number): boolean {
    return this.#syncedAt === undefined || now - this.#syncedAt >= this.syncIntervalMs
  }

  /** A reboot loses the time: it is unset until the next sync. */
  reset(): void {
    this.#syncedAt = undefined
  }
}
