import { ConfigError, TelemetrySchema } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import {
  DEVICE_TYPE_INFO,
  DEVICE_TYPES,
  DeviceClock,
  deviceIdFor,
  fleetMix,
  Random,
  reconnectDelay,
  SimDevice,
} from '../src/index.ts'

const T0 = Date.UTC(2026, 10, 23, 0, 0, 0)

describe('fleetMix', () => {
  it('splits the fleet by share, giving the remainder to the largest fractions, all motor by default', () => {
    expect(fleetMix(undefined, 7)).toEqual([{ type: 'motor', count: 7 }])
    expect(fleetMix('motor:80,env:20', 10)).toEqual([
      { type: 'motor', count: 8 },
      { type: 'env', count: 2 },
    ])
    expect(fleetMix('motor:1,env:1,power:1', 10)).toEqual([
      { type: 'motor', count: 4 },
      { type: 'env', count: 3 },
      { type: 'power', count: 3 },
    ])
    const mix = fleetMix('motor:70,env:20,power:10', 10_001)
    expect(mix.reduce((sum, m) => sum + m.count, 0)).toBe(10_001)
  })

  it('names the bad part of a mix', () => {
    expect(() => fleetMix('motor:80,fridge:20', 10)).toThrow(ConfigError)
    expect(() => fleetMix('motor:80,fridge:20', 10)).toThrow(/device type "fridge" is unknown/)
    expect(() => fleetMix('motor:x', 10)).toThrow(/share must be a number/)
    expect(() => fleetMix('motor:0', 10)).toThrow(/at least one share/)
    expect(() => fleetMix('env:1,env:2', 10)).toThrow(/given twice/)
  })

  it('gives each type its id infix, motor nodes keeping the plain ids', () => {
    expect(deviceIdFor('esp32-', 'motor', 1)).toBe('esp32-0001')
    expect(deviceIdFor('esp32-', 'env', 12)).toBe('esp32-env-0012')
    expect(deviceIdFor('esp32-', 'power', 3)).toBe('esp32-pwr-0003')
  })
})

describe('device types', () => {
  it('each reads its own metrics, valid on the wire and within the normal range the table states', () => {
    for (const type of DEVICE_TYPES) {
      const info = DEVICE_TYPE_INFO[type]
      const device = new SimDevice({ deviceId: deviceIdFor('esp32-', type, 1), seed: 11, type })
      // Every 10 minutes over two days: the daily cycles in full.
      for (let i = 0; i < 288; i++) {
        const reading = device.nextReading(T0 + i * 600_000)
        expect(TelemetrySchema.safeParse(reading).success).toBe(true)
        expect(Object.keys(reading.metrics).sort()).toEqual(Object.keys(info.metrics).sort())
        for (const [name, { normal }] of Object.entries(info.metrics)) {
          const value = reading.metrics[name] as number
          expect(value, `${type} ${name}`).toBeGreaterThanOrEqual(normal[0])
          expect(value, `${type} ${name}`).toBeLessThanOrEqual(normal[1])
        }
      }
      expect(reading(type).metrics[info.faultMetric.name]).toBeDefined()
    }
  })

  it('env: humidity falls as the day warms; only motor nodes overheat', () => {
    const env = new SimDevice({ deviceId: 'esp32-env-0001', seed: 3, type: 'env' })
    const day = Array.from({ length: 144 }, (_, i) => env.nextReading(T0 + i * 600_000).metrics)
    const warmest = day.reduce((a, b) => ((a.temperature ?? 0) > (b.temperature ?? 0) ? a : b))
    const coolest = day.reduce((a, b) => ((a.temperature ?? 0) < (b.temperature ?? 0) ? a : b))
    expect(warmest.humidity).toBeLessThan(coolest.humidity as number)
    expect(env.startOverheat(5)).toBe(false)
    expect(new SimDevice({ deviceId: 'esp32-0001', seed: 3 }).startOverheat(5)).toBe(true)
  })
})

function reading(type: (typeof DEVICE_TYPES)[number]) {
  return new SimDevice({ deviceId: 'x', seed: 1, type }).nextReading(T0)
}

describe('DeviceClock', () => {
  it('has no time before its first sync, then drifts at its rate until the next', () => {
    const clock = new DeviceClock(new Random(5), { maxDriftPpm: 50, syncErrorMs: 0 })
    expect(clock.read(T0)).toBeUndefined()
    expect(clock.due(T0)).toBe(true)
    clock.sync(T0)
    expect(clock.read(T0)).toBe(T0)
    expect(Math.abs(clock.driftPpm)).toBeLessThanOrEqual(50)
    const hour = 3_600_000
    expect(clock.errorAt(T0 + hour)).toBe(Math.round((hour * clock.driftPpm) / 1e6))
    expect(clock.due(T0 + hour - 1)).toBe(false)
    expect(clock.due(T0 + hour)).toBe(true)
    clock.sync(T0 + hour)
    expect(clock.errorAt(T0 + hour)).toBe(0)
    clock.reset()
    expect(clock.synced).toBe(false)
  })
})

describe('reconnectDelay', () => {
  it('doubles from 500 ms to a 5 s cap, each wait jittered within its upper half', () => {
    const random = new Random(9)
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(5_000, 500 * 2 ** attempt)
      const delays = Array.from({ length: 50 }, () => reconnectDelay(attempt, random))
      for (const delay of delays) {
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2)
        expect(delay).toBeLessThanOrEqual(ceiling)
      }
      expect(new Set(delays).size).toBeGreaterThan(40)
    }
  })
})
