/**
 * The kinds of node a fleet is made of. Readings carry no type: the id tells it, so rules can be
 * chosen per type by matching device-id globs in order (`esp32-env-*` before `esp32-*`).
 */
import { ConfigError } from '@fleetpipe/core'

export const DEVICE_TYPES = ['motor', 'env', 'power'] as const
export type DeviceType = (typeof DEVICE_TYPES)[number]

/** The metric faults act on for a type, and how hard. */
export interface FaultMetric {
  name: string
  /** Added by a spike. */
  spikeDelta: number
  /** Added per reading by a drift. */
  driftPerReading: number
  /** Standard deviation of the noise a burst adds. */
  burstSd: number
}

export interface DeviceTypeInfo {
  type: DeviceType
  /** Inserted after the fleet's id prefix: `esp32-` + `env-` + `0001`. Motor nodes have none. */
  idInfix: string
  /** Metric names, units and the normal range a healthy node reports, for default rules. */
  metrics: Record<string, { unit: string; normal: readonly [number, number] }>
  faultMetric: FaultMetric
  description: string
}

export const DEVICE_TYPE_INFO: Record<DeviceType, DeviceTypeInfo> = {
  motor: {
    type: 'motor',
    idInfix: '',
    description: 'motor node: winding temperature (overheats), vibration RMS, current on a duty cycle',
    metrics: {
      temperature: { unit: '°C', normal: [20, 48] },
      vibration: { unit: 'g RMS', normal: [0.01, 0.4] },
      current: { unit: 'A', normal: [0, 4.5] },
    },
    faultMetric: { name: 'temperature', spikeDelta: 40, driftPerReading: 0.5, burstSd: 8 },
  },
  env: {
    type: 'env',
    idInfix: 'env-',
    description: 'environment node: temperature on a daily cycle, relative humidity, LiPo battery',
    metrics: {
      temperature: { unit: '°C', normal: [10, 32] },
      humidity: { unit: '%RH', normal: [15, 85] },
      battery: { unit: 'V', normal: [3.3, 4.2] },
    },
    faultMetric: { name: 'temperature', spikeDelta: 40, driftPerReading: 0.5, burstSd: 8 },
  },
  power: {
    type: 'power',
    idInfix: 'pwr-',
    description: 'power node: 12 V supply rail, load current, backup battery on float charge',
    metrics: {
      voltage: { unit: 'V', normal: [11.5, 12.6] },
      current: { unit: 'A', normal: [0, 4.5] },
      battery: { unit: 'V', normal: [13.2, 14] },
    },
    // A brown-out: the rail collapses for a reading.
    faultMetric: { name: 'voltage', spikeDelta: -4, driftPerReading: -0.02, burstSd: 0.8 },
  },
}

/** How many of each type, in the order ids are given out. */
export type FleetMix = { type: DeviceType; count: number }[]

/**
 * Parses `motor:80,env:20` (weights, not necessarily summing to 100) into counts for `devices`
 * devices: each type gets its share rounded down, and the remainder goes to the largest shares.
 * @example fleetMix('motor:3,env:1', 8) // [{ type: 'motor', count: 6 }, { type: 'env', count: 2 }]
 */
export function fleetMix(spec: string | undefined, devices: number): FleetMix {
  if (spec === undefined || spec.trim() === '') return [{ type: 'motor', count: devices }]
  const weights: { type: DeviceType; weight: number }[] = []
  for (const raw of spec.split(',')) {
    const part = raw.trim()
    if (part === '') continue
    const [name = '', weightText] = part.split(':').map((s) => s.trim())
    if (!(DEVICE_TYPES as readonly string[]).includes(name)) {
      throw new ConfigError(`device type "${name}" is unknown; use one of ${DEVICE_TYPES.join(', ')}`)
    }
    const weight = weightText === undefined ? 1 : Number(weightText)
    if (!(weight >= 0) || weightText === '') {
      throw new ConfigError(`device type "${part}": the share must be a number ≥ 0, as in motor:80`)
    }
    if (weights.some((w) => w.type === name)) throw new ConfigError(`device type "${name}" is given twice`)
    weights.push({ type: name as DeviceType, weight })
  }
  const total = weights.reduce((sum, w) => sum + w.weight, 0)
  if (!(total > 0)) throw new ConfigError(`device types "${spec}": at least one share must be above 0`)
  const mix = weights.map((w) => ({ type: w.type, count: Math.floor((devices * w.weight) / total) }))
  let left = devices - mix.reduce((sum, m) => sum + m.count, 0)
  const byRemainder = weights
    .map((w, i) => ({ i, rest: (devices * w.weight) / total - (mix[i]?.count ?? 0) }))
    .sort((a, b) => b.rest - a.rest || a.i - b.i)
  for (const { i } of byRemainder) {
    if (left-- <= 0) break
    const m = mix[i]
    if (m) m.count++
  }
  return mix
}

/** `esp32-` + `env-` + `0001`: ids numbered from 1 within each type. */
export function deviceIdFor(prefix: string, type: DeviceType, n: number): string {
  return `${prefix}${DEVICE_TYPE_INFO[type].idInfix}${String(n).padStart(4, '0')}`
}
