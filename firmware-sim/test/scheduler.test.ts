import type { TelemetryInput } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { FleetScheduler, Random, SimDevice, seedFor } from '../src/index.ts'

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0)

function setup(count: number, options: { rateHz: number; anomalyChance: number; seed?: number }) {
  const devices = Array.from(
    { length: count },
    (_, i) => new SimDevice({ deviceId: `esp32-${String(i + 1).padStart(4, '0')}`, seed: seedFor(1, i) }),
  )
  const emitted: { index: number; reading: TelemetryInput }[] = []
  const scheduler = new FleetScheduler(
    devices,
    { ...options, random: new Random(options.seed ?? 1), start: T0 },
    (index, reading) => emitted.push({ index, reading }),
  )
  const run = (untilMs: number, stepMs = scheduler.tickMs) => {
    for (let now = T0; now < T0 + untilMs; now += stepMs) scheduler.tick(now)
  }
  return { devices, emitted, scheduler, run }
}

describe('FleetScheduler', () => {
  it('reads each device once per period, spread evenly across it', () => {
    const { emitted, run } = setup(4, { rateHz: 2, anomalyChance: 0 })
    run(2_000, 5)
    for (let index = 0; index < 4; index++) {
      const mine = emitted.filter((e) => e.index === index).map((e) => e.reading)
      expect(mine.map((r) => r.seq)).toEqual([0, 1, 2, 3])
      // Device i's slot starts i/4 of the 500 ms period in; a 5 ms tick makes it at most 5 ms late.
      mine.forEach((r, k) => {
        const slot = T0 + k * 500 + index * 125
        expect(r.ts - slot).toBeGreaterThanOrEqual(0)
        expect(r.ts - slot).toBeLessThan(5)
      })
    }
  })

  it('skips the slots missed in a stall instead of bursting, keeping each device on its phase', () => {
    const { emitted, scheduler } = setup(2, { rateHz: 10, anomalyChance: 0 })
    expect(scheduler.tick(T0)).toBe(1)
    expect(scheduler.tick(T0 + 1_000)).toBe(2)
    expect(scheduler.tick(T0 + 1_010)).toBe(0)
    expect(scheduler.tick(T0 + 1_050)).toBe(1)
    expect(emitted.map((e) => [e.index, e.reading.ts])).toEqual([
      [0, T0],
      [0, T0 + 1_000],
      [1, T0 + 1_000],
      [1, T0 + 1_050],
    ])
  })

  it('starts an overheat episode within the first 5 s even when anomalies are rare', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { emitted, scheduler, run } = setup(10, { rateHz: 1, anomalyChance: 1e-9, seed })
      run(5_000)
      expect(scheduler.episodes).toBe(1)
      const hot = emitted.filter((e) => (e.reading.metrics.temperature ?? 0) > 80)
      expect(hot.length).toBeGreaterThan(0)
      expect(Math.min(...hot.map((e) => e.reading.ts))).toBeLessThan(T0 + 5_000)
    }
  })

  it('moves one device to a new period, and skips a device whose clock has no time', () => {
    const devices = [1, 2].map((n) => new SimDevice({ deviceId: `esp32-000${n}`, seed: n }))
    const emitted: { index: number; ts: number; late: number }[] = []
    let offline = false
    const scheduler = new FleetScheduler(
      devices,
      {
        rateHz: 1,
        anomalyChance: 0,
        random: new Random(1),
        start: T0,
        clock: (index, now) => (index === 1 && offline ? undefined : now + 7),
      },
      (index, reading, late) => emitted.push({ index, ts: reading.ts, late }),
    )
    scheduler.setPeriod(0, 250, T0)
    for (let now = T0; now <= T0 + 2_000; now += 50) {
      offline = now >= T0 + 1_500
      scheduler.tick(now)
    }
    const first = emitted.filter((e) => e.index === 0).map((e) => e.ts - 7 - T0)
    expect(first).toEqual([250, 500, 750, 1_000, 1_250, 1_500, 1_750, 2_000])
    // Device 1's slots are at 500 and 1500 ms; at 1500 ms it had no time, so it took no reading.
    expect(emitted.filter((e) => e.index === 1).map((e) => e.ts - 7 - T0)).toEqual([500])
    expect(emitted.every((e) => e.late >= 0 && e.late < 50)).toBe(true)
  })

  it('starts no episode when anomalies are off', () => {
    const { emitted, scheduler, run } = setup(10, { rateHz: 1, anomalyChance: 0 })
    run(30_000)
    expect(scheduler.episodes).toBe(0)
    expect(emitted).toHaveLength(300)
    expect(emitted.every((e) => (e.reading.metrics.temperature ?? 0) < 75)).toBe(true)
  })

  it('turns a per-second chance into about that many episodes, each 20–60 s long', () => {
    const { devices, scheduler, run } = setup(100, { rateHz: 1, anomalyChance: 0.01 })
    run(100_000, 1_000)
    // 100 devices × 100 s × 1 %/s, less the time already spent overheating: roughly 60 expected.
    expect(scheduler.episodes).toBeGreaterThan(30)
    expect(scheduler.episodes).toBeLessThan(100)
    for (const label of devices.flatMap((d) => d.labels())) {
      expect(label.endedBy).toBe('elapsed')
      expect(label.endTs - label.startTs).toBeGreaterThanOrEqual(19_000)
      expect(label.endTs - label.startTs).toBeLessThanOrEqual(60_000)
    }
  })
})
