/** One simulated ESP32 motor node: its boot, sequence numbers, readings and injected anomalies. */
import type { DeviceCommand, TelemetryInput } from '@fleetpipe/core'
import type { FaultLabel } from './faults.ts'
import { Random } from './random.ts'
import { type MotorProfile, motorMetrics, motorProfile, overheatTemperature } from './sensors.ts'

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
}

/** `applied`: the device acted on it; the others are ignored. */
export type CommandOutcome = 'applied' | 'duplicate' | 'unknown'

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
  readonly profile: MotorProfile
  #random: Random
  #boot: string
  #seq = 0
  #episode: Episode | undefined
  #labels: OverheatLabel[] = []
  #recentCommands: string[] = []

  constructor({ deviceId, seed, fw = FIRMWARE_VERSION }: SimDeviceOptions) {
    this.deviceId = deviceId
    this.fw = fw
    this.#random = new Random(seed)
    this.profile = motorProfile(this.#random)
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
    const metrics = motorMetrics(this.profile, ts, this.#random)
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

  /** Overheats the next `readings` readings; false if an episode is already under way. */
  startOverheat(readings: number): boolean {
    if (this.#episode || readings < 1) return false
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
        return 'applied'
      default:
        return 'unknown'
    }
  }

  reboot(): void {
    this.#boot = this.#random.hex(8)
    this.#seq = 0
    this.#recentCommands = []
  }

  /** Finished episodes, oldest first. */
  labels(): OverheatLabel[] {
    return [...this.#labels]
  }
}
