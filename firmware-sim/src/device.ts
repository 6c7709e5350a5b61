/** One simulated ESP32 node (a motor node unless told): its boot, sequence numbers, readings and anomalies. */
import type { DeviceCommand, TelemetryInput } from '@fleetpipe/core'
import type { DeviceType } from './device-types.ts'
import type { FaultLabel } from './faults.ts'
import { Random } from './random.ts'
import {
  type EnvProfile,
  envMetrics,
  envProfile,
  type MotorProfile,
  motorMetrics,
  motorProfile,
  overheatTemperature,
  type PowerProfile,
  powerMetrics,
  powerProfile,
} from './sensors.ts'

export const FIRMWARE_VERSION = '1.4.2'

/** Ground truth for an anomaly: readings with `startTs <= ts <= endTs` were overheated. */
export interface OverheatLabel {
  deviceId: string
  kind: 'overheat'
  startTs: number
  endTs: number
  endedBy: 'elapsed' | 'safe-mode' | 'stop'
}

/** Any ground truth a fleet records: overheat episodes and injected faults. */
export type Label = OverheatLabel | FaultLabel

export interface SimDeviceOptions {
  deviceId: string
  seed: number
  fw?: string
  /** Which sensors it carries; `motor` by default. */
  type?: DeviceType
}

/** `applied`: the device acted on it; the others are ignored (`rejected`: known, but bad arguments). */
export type CommandOutcome = 'applied' | 'duplicate' | 'unknown' | 'rejected'

/** Bounds a set-interval command must respect, in seconds: faster would flood, slower looks dead. */
export const INTERVAL_BOUNDS_S: readonly [number, number] = [0.01, 3_600]

interface Episode {
  peak: number
  remaining: number
  startTs?: number
  lastTs?: number
}

/** Enough to catch a broker's redelivery of a recent command; a real node has little RAM. */
const REMEMBERED_COMMANDS = 32

export class SimDevice {
  readonly deviceId: string
  readonly fw: string
  readonly type: DeviceType
  readonly profile: MotorProfile | EnvProfile | PowerProfile
  /** Set by a set-interval command: the reading period it asked for, in ms. */
  intervalMs: number | undefined
  /** Set by a safe-mode command: the motor's load is shed (overheating stops) until a reboot. */
  safeMode = false
  #random: Random
  #boot: string
  #seq = 0
  #episode: Episode | undefined
  #labels: OverheatLabel[] = []
  #recentCommands: string[] = []

  constructor({ deviceId, seed, fw = FIRMWARE_VERSION, type = 'motor' }: SimDeviceOptions) {
    this.deviceId = deviceId
    this.fw = fw
    this.type = type
    this.#random = new Random(seed)
    this.profile =
      type === 'env'
        ? envProfile(this.#random)
        : type === 'power'
          ? powerProfile(this.#random)
          : motorProfile(this.#random)
    this.#boot = this.#random.hex(8)
  }

  get boot(): string {
    return this.#boot
  }

  /** The seq the next reading will carry. */
  get seq(): number {
    return this.#seq
  }

  get overheating(): boolean {
    return this.#episode !== undefined
  }

  nextReading(now: number): TelemetryInput {
    const ts = Math.round(now)
    const metrics: Record<string, number> =
      this.type === 'env'
        ? envMetrics(this.profile as EnvProfile, ts, this.#random)
        : this.type === 'power'
          ? powerMetrics(this.profile as PowerProfile, ts, this.#random)
          : motorMetrics(this.profile as MotorProfile, ts, this.#random)
    const episode = this.#episode
    if (episode) {
      metrics.temperature = overheatTemperature(episode.peak, this.#random)
      episode.startTs ??= ts
      episode.lastTs = ts
      episode.remaining--
      if (episode.remaining <= 0) this.endEpisode('elapsed')
    }
    return { v: 1, deviceId: this.deviceId, ts, seq: this.#seq++, boot: this.#boot, metrics, fw: this.fw }
  }

  /** Overheats the next `readings` readings; false if an episode is already under way, or no motor. */
  startOverheat(readings: number): boolean {
    if (this.#episode || readings < 1 || this.type !== 'motor') return false
    this.#episode = { peak: this.#random.uniform(88.5, 93), remaining: Math.floor(readings) }
    return true
  }

  /**
   * Ends the ongoing episode, labelling it with the readings it overheated. An episode that has not
   * yet produced a reading leaves no label: no reading was anomalous.
   */
  endEpisode(endedBy: OverheatLabel['endedBy']): void {
    const episode = this.#episode
    this.#episode = undefined
    if (episode?.startTs === undefined || episode.lastTs === undefined) return
    this.#labels.push({
      deviceId: this.deviceId,
      kind: 'overheat',
      startTs: episode.startTs,
      endTs: episode.lastTs,
      endedBy,
    })
  }

  handleCommand(command: DeviceCommand): CommandOutcome {
    if (this.#recentCommands.includes(command.id)) return 'duplicate'
    this.#recentCommands.push(command.id)
    if (this.#recentCommands.length > REMEMBERED_COMMANDS) this.#recentCommands.shift()
    switch (command.command) {
      case 'safe-mode':
        // Safe mode sheds the motor's load, so an overheating node cools down.
        this.endEpisode('safe-mode')
        this.safeMode = true
        return 'applied'
      case 'set-interval': {
        const seconds = Number(command.args?.seconds)
        if (!(seconds >= INTERVAL_BOUNDS_S[0] && seconds <= INTERVAL_BOUNDS_S[1])) return 'rejected'
        this.intervalMs = seconds * 1_000
        return 'applied'
      }
      case 'reboot':
        // The fleet restarts the connection; the new boot id and seq 0 begin with the next reading.
        return 'applied'
      default:
        return 'unknown'
    }
  }

  reboot(): void {
    this.#boot = this.#random.hex(8)
    this.#seq = 0
    this.#recentCommands = []
    this.safeMode = false
    this.intervalMs = undefined
  }

  /** Finished episodes, oldest first. */
  labels(): OverheatLabel[] {
    return [...this.#labels]
  }
}
