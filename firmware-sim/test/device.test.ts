import { TelemetrySchema } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { SimDevice } from '../src/index.ts'

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0)

function readings(device: SimDevice, count: number, everyMs = 1_000) {
  return Array.from({ length: count }, (_, i) => device.nextReading(T0 + i * everyMs))
}

function command(id: string, name: string) {
  return { id, deviceId: 'esp32-0001', command: name }
}

describe('SimDevice', () => {
  it('gives the same readings and boot id for the same seed, and different ones for another seed', () => {
    const a = new SimDevice({ deviceId: 'esp32-0001', seed: 42 })
    const b = new SimDevice({ deviceId: 'esp32-0001', seed: 42 })
    const c = new SimDevice({ deviceId: 'esp32-0001', seed: 43 })
    a.startOverheat(3)
    b.startOverheat(3)
    const first = readings(a, 20)
    expect(readings(b, 20)).toEqual(first)
    expect(readings(c, 20).map((r) => r.metrics)).not.toEqual(first.map((r) => r.metrics))
    expect(c.boot).not.toBe(a.boot)
  })

  it('numbers readings from 0 within a boot, and a reboot brings a new boot id and seq 0', () => {
    const device = new SimDevice({ deviceId: 'esp32-0001', seed: 1 })
    expect(device.boot).toMatch(/^[0-9a-f]{8}$/)
    const before = readings(device, 5)
    expect(before.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4])
    expect(new Set(before.map((r) => r.boot))).toEqual(new Set([device.boot]))

    const oldBoot = device.boot
    device.reboot()
    expect(device.boot).toMatch(/^[0-9a-f]{8}$/)
    expect(device.boot).not.toBe(oldBoot)
    const after = readings(device, 3)
    expect(after.map((r) => r.seq)).toEqual([0, 1, 2])
    expect(after.every((r) => r.boot === device.boot)).toBe(true)
  })

  it('sends readings that validate against the wire schema, in the documented shape', () => {
    const device = new SimDevice({ deviceId: 'esp32-0007', seed: 9 })
    device.startOverheat(10)
    for (const reading of readings(device, 200, 60_000)) {
      const parsed = TelemetrySchema.safeParse(reading)
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true)
      expect(Object.keys(reading.metrics).sort()).toEqual(['current', 'temperature', 'vibration'])
      expect(reading).toMatchObject({ v: 1, deviceId: 'esp32-0007', fw: '1.4.2', boot: device.boot })
    }
  })

  it('models a motor node: warm but normal temperature, light vibration, current on a duty cycle', () => {
    // Five minutes apart over two days: every hour of the daily cycle and both duty-cycle states.
    const all = readings(new SimDevice({ deviceId: 'esp32-0001', seed: 5 }), 576, 5 * 60_000)
    const temperatures = all.map((r) => r.metrics.temperature ?? Number.NaN)
    expect(Math.min(...temperatures)).toBeGreaterThan(22)
    expect(Math.max(...temperatures)).toBeLessThan(47)
    expect(Math.max(...temperatures) - Math.min(...temperatures)).toBeGreaterThan(3)
    for (const { metrics } of all) {
      expect(metrics.vibration).toBeGreaterThan(0.01)
      expect(metrics.vibration).toBeLessThan(0.4)
    }
    const currents = all.map((r) => r.metrics.current ?? Number.NaN)
    const running = currents.filter((a) => a > 3.5 && a < 4.5)
    const idle = currents.filter((a) => a > 0.1 && a < 0.5)
    expect(running.length + idle.length).toBe(currents.length)
    expect(running.length).toBeGreaterThan(50)
    expect(idle.length).toBeGreaterThan(50)
  })

  it('overheats for the given number of readings, then returns to normal and labels the episode', () => {
    const device = new SimDevice({ deviceId: 'esp32-0001', seed: 3 })
    const normalBefore = readings(device, 3)
    expect(device.startOverheat(4)).toBe(true)
    expect(device.overheating).toBe(true)
    expect(device.startOverheat(4)).toBe(false)
    const hot = Array.from({ length: 4 }, (_, i) => device.nextReading(T0 + 10_000 + i * 1_000))
    const after = Array.from({ length: 5 }, (_, i) => device.nextReading(T0 + 20_000 + i * 1_000))

    for (const r of normalBefore) expect(r.metrics.temperature).toBeLessThan(75)
    for (const r of hot) {
      expect(r.metrics.temperature).toBeGreaterThan(80)
      expect(r.metrics.temperature).toBeGreaterThanOrEqual(88)
      expect(r.metrics.temperature).toBeLessThanOrEqual(95)
    }
    for (const r of after) expect(r.metrics.temperature).toBeLessThan(75)
    expect(device.overheating).toBe(false)
    expect(device.labels()).toEqual([
      {
        deviceId: 'esp32-0001',
        kind: 'overheat',
        startTs: T0 + 10_000,
        endTs: T0 + 13_000,
        endedBy: 'elapsed',
      },
    ])
  })

  it('cools down on safe-mode, ending the episode early with a label, and ignores repeats and unknowns', () => {
    const device = new SimDevice({ deviceId: 'esp32-0001', seed: 4 })
    device.startOverheat(100)
    const hot = [device.nextReading(T0), device.nextReading(T0 + 1_000)]
    expect(hot.every((r) => (r.metrics.temperature ?? 0) > 80)).toBe(true)

    expect(device.handleCommand(command('c1', 'safe-mode'))).toBe('applied')
    expect(device.overheating).toBe(false)
    expect(device.nextReading(T0 + 2_000).metrics.temperature).toBeLessThan(75)
    expect(device.labels()).toEqual([
      { deviceId: 'esp32-0001', kind: 'overheat', startTs: T0, endTs: T0 + 1_000, endedBy: 'safe-mode' },
    ])

    expect(device.handleCommand(command('c1', 'safe-mode'))).toBe('duplicate')
    expect(device.handleCommand(command('c2', 'self-destruct'))).toBe('unknown')
    expect(device.handleCommand(command('c3', 'safe-mode'))).toBe('applied')
    expect(device.labels()).toHaveLength(1)
  })

  it('takes set-interval within bounds, rejects it outside them, and forgets it (and safe mode) on reboot', () => {
    const device = new SimDevice({ deviceId: 'esp32-0001', seed: 4 })
    const at = (id: string, seconds: unknown) => ({ ...command(id, 'set-interval'), args: { seconds } })
    expect(device.handleCommand(at('i1', 5))).toBe('applied')
    expect(device.intervalMs).toBe(5_000)
    expect(device.handleCommand(at('i2', 0))).toBe('rejected')
    expect(device.handleCommand(at('i3', 'soon'))).toBe('rejected')
    expect(device.handleCommand(at('i4', 7_200))).toBe('rejected')
    expect(device.intervalMs).toBe(5_000)
    expect(device.handleCommand(command('s1', 'safe-mode'))).toBe('applied')
    expect(device.safeMode).toBe(true)
    expect(device.handleCommand(command('r1', 'reboot'))).toBe('applied')
    device.reboot()
    expect(device.intervalMs).toBeUndefined()
    expect(device.safeMode).toBe(false)
    // Remembered command ids are RAM too: a redelivered command is taken again after a reboot.
    expect(device.handleCommand(command('i1', 'safe-mode'))).toBe('applied')
  })

  it('leaves no label for an episode ended before any reading was overheated', () => {
    const device = new SimDevice({ deviceId: 'esp32-0001', seed: 4 })
    device.startOverheat(10)
    device.handleCommand(command('c1', 'safe-mode'))
    expect(device.overheating).toBe(false)
    expect(device.labels()).toEqual([])
    expect(device.nextReading(T0).metrics.temperature).toBeLessThan(75)
  })
})
