/**
 * A labeled dataset from the simulator: motor nodes (firmware-sim's sensor models) with overheat
 * episodes and firmware-sim's fault injection, reading at a fixed interval over a span of simulated
 * time. The same options and seed give the same readings and labels.
 */
import { ConfigError, type TelemetryInput } from '@fleetpipe/core'
import { FaultInjector, type FaultRule, Random, SimDevice, seedFor } from '@fleetpipe/firmware-sim'
import { type EvalLabel, LABEL_KINDS, type LabelKind } from './labels.ts'

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS

/** Anomalies started per device-hour, by kind: enough of each for recall to mean something at the defaults. */
export const DEFAULT_RATES: Readonly<Record<LabelKind, number>> = {
  overheat: 0.1,
  spike: 0.2,
  stuck: 0.1,
  drift: 0.1,
  dropout: 0.1,
  burst: 0.1,
}

/** Overheat episodes last 1 to 6 minutes of device time. */
const OVERHEAT_MS: readonly [number, number] = [60_000, 360_000]
/** A Monday at midnight UTC: only the start of the simulated span, never compared with the wall clock. */
export const DEFAULT_START = Date.UTC(2026, 0, 5)
// Separate streams from the devices' own, as in firmware-sim's fleet: turning one anomaly kind
// on or off leaves the clean readings and the other kinds' draws as they were.
const FAULT_SEED = 0xfa017
const EPISODE_SEED = 0xe915

export interface DatasetOptions {
  /** 100 by default. */
  devices?: number
  /** Simulated span; 6 by default. */
  hours?: number
  /** Between one device's readings; 10 s by default. */
  intervalMs?: number
  seed?: number
  /** Device time of the first reading. */
  start?: number
  /** Anomalies started per device-hour, by kind; kinds left out keep their default, 0 turns one off. */
  rates?: Partial<Record<LabelKind, number>>
  idPrefix?: string
}

export interface Dataset {
  deviceIds: string[]
  start: number
  /** Just past the last reading's slot: the span is `end - start`. */
  end: number
  intervalMs: number
  seed: number
  /** As the devices published them (dropped readings absent), in device-time order across the fleet. */
  readings: TelemetryInput[]
  /** By start time. Labels none of whose readings were published are left out: no rule could see them. */
  labels: EvalLabel[]
}

export function generateDataset(options: DatasetOptions = {}): Dataset {
  const { devices: count = 100, hours = 6, intervalMs = 10_000, seed = 1 } = options
  const { start = DEFAULT_START, idPrefix = 'esp32-' } = options
  const rates = { ...DEFAULT_RATES, ...options.rates }
  validate(count, hours, intervalMs, seed, rates)
  const chance = (kind: LabelKind) => Math.min(1, (rates[kind] * intervalMs) / HOUR_MS)
  const slots = Math.max(1, Math.floor((hours * HOUR_MS) / intervalMs))

  const deviceIds = Array.from({ length: count }, (_, i) => `${idPrefix}${String(i + 1).padStart(4, '0')}`)
  const devices = deviceIds.map((deviceId, i) => new SimDevice({ deviceId, seed: seedFor(seed, i) }))
  const faults: FaultRule[] = (['dropout', 'spike', 'stuck', 'drift', 'burst'] as const).map((kind) => ({
    kind,
    probability: chance(kind),
  }))
  const injectors = deviceIds.map(
    (deviceId, i) => new FaultInjector(faults, { deviceId, seed: seedFor(seed ^ FAULT_SEED, i) }),
  )
  const episodes = deviceIds.map((_, i) => new Random(seedFor(seed ^ EPISODE_SEED, i)))
  // Devices read at the same interval, spread evenly across it: slot by slot, the fleet is in time order.
  const phases = deviceIds.map((_, i) => Math.floor((i * intervalMs) / count))

  const readings: TelemetryInput[] = []
  for (let slot = 0; slot < slots; slot++) {
    for (let i = 0; i < count; i++) {
      const device = devices[i] as SimDevice
      const random = episodes[i] as Random
      if (!device.overheating && random.chance(chance('overheat'))) {
        const ms = random.uniform(...OVERHEAT_MS)
        device.startOverheat(Math.max(1, Math.round(ms / intervalMs)))
      }
      const reading = device.nextReading(start + slot * intervalMs + (phases[i] as number))
      for (const out of (injectors[i] as FaultInjector).apply(reading)) {
        // Only transport faults send strings, and this dataset injects none.
        if (typeof out !== 'string') readings.push(out)
      }
    }
  }
  for (const device of devices) device.endEpisode('stop')

  const labels: EvalLabel[] = [
    ...devices.flatMap((device) => device.labels()),
    ...injectors.flatMap((injector) => injector.labels()),
  ].map(({ deviceId, kind, startTs, endTs }) => ({ deviceId, kind: kind as LabelKind, startTs, endTs }))
  return {
    deviceIds,
    start,
    end: start + slots * intervalMs,
    intervalMs,
    seed,
    readings,
    labels: visible(labels, readings).sort((a, b) => a.startTs - b.startTs || cmp(a.deviceId, b.deviceId)),
  }
}

/** Device-days a dataset spans: false alerts are counted per device-day. */
export function deviceDays(dataset: Pick<Dataset, 'deviceIds' | 'start' | 'end'>): number {
  return (dataset.deviceIds.length * (dataset.end - dataset.start)) / DAY_MS
}

/** Drops labels (but dropouts) none of whose readings was published, e.g. a spike inside a dropout. */
function visible(labels: EvalLabel[], readings: readonly TelemetryInput[]): EvalLabel[] {
  const sent = new Map<string, number[]>()
  for (const { deviceId, ts } of readings) {
    const list = sent.get(deviceId)
    if (list) list.push(ts)
    else sent.set(deviceId, [ts])
  }
  return labels.filter((label) => {
    if (label.kind === 'dropout') return true
    const list = sent.get(label.deviceId) ?? []
    const i = firstAtOrAfter(list, label.startTs)
    return i < list.length && (list[i] as number) <= label.endTs
  })
}

/** Index of the first value ≥ `ts` in an ascending list. */
function firstAtOrAfter(list: readonly number[], ts: number): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((list[mid] as number) < ts) lo = mid + 1
    else hi = mid
  }
  return lo
}

function validate(
  devices: number,
  hours: number,
  intervalMs: number,
  seed: number,
  rates: Record<LabelKind, number>,
) {
  if (!Number.isInteger(devices) || devices < 1 || devices > 10_000)
    throw new ConfigError(`devices must be a whole number from 1 to 10000, got ${devices}`)
  if (!(hours > 0)) throw new ConfigError(`hours must be above 0, got ${hours}`)
  if (!(intervalMs >= 1)) throw new ConfigError(`the interval must be at least 1 ms, got ${intervalMs}`)
  if (!Number.isInteger(seed)) throw new ConfigError(`seed must be an integer, got ${seed}`)
  for (const kind of LABEL_KINDS) {
    if (!(rates[kind] >= 0))
      throw new ConfigError(`the ${kind} rate must be a number ≥ 0 per device-hour, got ${rates[kind]}`)
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
