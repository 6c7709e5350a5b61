import {
  ConfigError,
  MAX_FUTURE_MS,
  MAX_PAYLOAD_BYTES,
  type TelemetryInput,
  TelemetrySchema,
} from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import {
  chooseShare,
  countFaults,
  DEVICE_TYPE_INFO,
  FaultInjector,
  type FaultRule,
  matchesSelector,
  type Outgoing,
  parseFaults,
  SimDevice,
} from '../src/index.ts'

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0)
const PEERS = ['esp32-0001', 'esp32-0002', 'esp32-0003']

/** A clean device and one with faults, same seed: each reading is compared with what the faulty one sends. */
function run(spec: string | FaultRule[], count = 100, seed = 7) {
  const rules = typeof spec === 'string' ? parseFaults(spec) : spec
  const device = new SimDevice({ deviceId: 'esp32-0001', seed })
  const injector = new FaultInjector(rules, { deviceId: 'esp32-0001', seed, peers: PEERS })
  const steps: { reading: TelemetryInput; sent: Outgoing[] }[] = []
  for (let i = 0; i < count; i++) {
    const reading = device.nextReading(T0 + i * 1_000)
    steps.push({ reading: structuredClone(reading), sent: injector.apply(reading) })
  }
  return { steps, labels: injector.labels() }
}

const temperature = (payload: Outgoing | undefined) =>
  typeof payload === 'object' ? payload.metrics.temperature : undefined

describe('parseFaults', () => {
  it('reads kind:probability pairs with optional device globs', () => {
    expect(parseFaults(' spike:0.01, stuck:0.005,drift:0,dropout:1 ')).toEqual([
      { kind: 'spike', probability: 0.01 },
      { kind: 'stuck', probability: 0.005 },
      { kind: 'drift', probability: 0 },
      { kind: 'dropout', probability: 1 },
    ])
    expect(parseFaults('spike:0.05@esp32-00*,spoof:1e-3')).toEqual([
      { kind: 'spike', probability: 0.05, selector: 'esp32-00*' },
      { kind: 'spoof', probability: 0.001 },
    ])
    expect(parseFaults('')).toEqual([])
  })

  it('names the bad part in each error', () => {
    const cases: [string, RegExp][] = [
      ['spike:0.1,spyke:0.1', /fault "spyke:0.1": kind "spyke" is unknown; use one of spike, stuck/],
      ['bursts:0.1', /fault "bursts:0.1": kind "bursts" is unknown/],
      ['spike:10x', /probability must be a number from 0 to 1, got "10x" \(or a time: 30s/],
      ['spike:0.1@0%', /one share, above 0 % and at most 100 %/],
      ['spike:0.1@a*@b*', /one device glob at most/],
      ['skews:0.1', /kind "skews" is unknown/],
      ['spike:1.5', /fault "spike:1.5": probability must be a number from 0 to 1, got "1.5"/],
      ['spike:-0.1', /probability must be a number from 0 to 1, got "-0.1"/],
      ['spike:often', /got "often"/],
      ['spike:', /fault "spike:": probability/],
      ['spike', /fault "spike": expected kind:probability\[@device-glob\]\[@share%\]/],
      ['spike:0.1@', /fault "spike:0.1@": empty device selector/],
    ]
    for (const [spec, message] of cases) {
      expect(() => parseFaults(spec), spec).toThrow(ConfigError)
      expect(() => parseFaults(spec), spec).toThrow(message)
    }
  })
})

describe('parseFaults: schedules and shares', () => {
  it('reads a time (once) or a window instead of a probability, and a share of the matching devices', () => {
    expect(parseFaults('dropout:10s+30s@25%,spike:1.5m,burst:0.01@esp32-env-*@50%')).toEqual([
      { kind: 'dropout', probability: 0, schedule: { startMs: 10_000, durationMs: 30_000 }, share: 0.25 },
      { kind: 'spike', probability: 0, schedule: { startMs: 90_000 } },
      { kind: 'burst', probability: 0.01, selector: 'esp32-env-*', share: 0.5 },
    ])
  })

  it('chooses exactly the share of the matching devices, the same ones for the same seed', () => {
    const ids = Array.from(
      { length: 40 },
      (_, i) => `esp32-${i < 20 ? '' : 'env-'}${String(i).padStart(4, '0')}`,
    )
    const [rule] = parseFaults('spike:0.1@esp32-env-*@25%')
    const chosen = chooseShare(ids, rule as FaultRule, 1)
    expect(chosen.size).toBe(5)
    for (const id of chosen) expect(id).toMatch(/^esp32-env-/)
    expect(chooseShare(ids, rule as FaultRule, 1)).toEqual(chosen)
    expect(chooseShare(ids, rule as FaultRule, 2)).not.toEqual(chosen)
    expect(chooseShare(ids, { kind: 'spike', probability: 1 }, 1).size).toBe(40)
  })
})

describe('matchesSelector', () => {
  it('matches * and ? globs against the whole id, taking other characters literally', () => {
    expect(matchesSelector('esp32-0001', undefined)).toBe(true)
    expect(matchesSelector('esp32-0001', 'esp32-00*')).toBe(true)
    expect(matchesSelector('esp32-0101', 'esp32-00*')).toBe(false)
    expect(matchesSelector('esp32-0001', 'esp32-000?')).toBe(true)
    expect(matchesSelector('esp32x0001', 'esp32.0001')).toBe(false)
  })
})

describe('FaultInjector', () => {
  it('injects nothing without rules, or when the selector leaves the device out', () => {
    for (const spec of ['', 'spike:1@esp32-01*']) {
      const { steps, labels } = run(spec, 20)
      expect(steps.every(({ reading, sent }) => sent.length === 1 && sent[0] !== reading)).toBe(true)
      expect(steps.map(({ sent }) => sent[0])).toEqual(steps.map(({ reading }) => reading))
      expect(labels).toEqual([])
    }
  })

  it('draws the same faults and labels from the same seed, other ones from another', () => {
    const spec = 'spike:0.05,stuck:0.02,drift:0.01,dropout:0.01,duplicate:0.05,malformed:0.02,spoof:0.02'
    const a = run(spec, 500)
    expect(run(spec, 500)).toEqual(a)
    expect(a.labels.length).toBeGreaterThan(10)
    expect(new Set(a.labels.map((l) => l.kind))).toEqual(
      new Set(['spike', 'stuck', 'drift', 'dropout', 'duplicate', 'malformed', 'spoof']),
    )
    expect(run(spec, 500, 8).labels).not.toEqual(a.labels)
  })

  it('spike: puts one reading 40 °C above what was read', () => {
    const { steps, labels } = run('spike:0.1')
    const spiked = steps.filter(({ reading, sent }) => temperature(sent[0]) !== reading.metrics.temperature)
    expect(spiked.length).toBeGreaterThan(3)
    for (const { reading, sent } of spiked) {
      expect(temperature(sent[0])).toBeCloseTo((reading.metrics.temperature ?? 0) + 40, 5)
    }
    expect(labels.map((l) => l.ts)).toEqual(spiked.map(({ reading }) => reading.ts))
    expect(labels[0]).toMatchObject({
      deviceId: 'esp32-0001',
      kind: 'spike',
      seq: spiked[0]?.reading.seq,
      detail: { metric: 'temperature', delta: 40 },
    })
    expect(labels.every((l) => l.startTs === l.ts && l.endTs === l.ts)).toBe(true)
  })

  it('stuck: repeats the last published temperature over the labelled readings', () => {
    const { steps, labels } = run('stuck:0.03', 200)
    expect(labels.length).toBeGreaterThan(0)
    for (const label of labels) {
      const hit = steps.filter(({ reading }) => reading.ts >= label.startTs && reading.ts <= label.endTs)
      expect(hit.length).toBe(label.detail?.readings)
      expect(hit.every(({ sent }) => temperature(sent[0]) === label.detail?.value)).toBe(true)
      const before = steps[steps.findIndex(({ reading }) => reading.ts === label.ts) - 1]
      if (before) expect(temperature(before.sent[0])).toBe(label.detail?.value)
    }
  })

  it('drift: offsets the temperature by a growing amount, 0.5 °C more each reading', () => {
    const { steps, labels } = run([{ kind: 'drift', probability: 1 }], 40)
    const label = labels[0]
    expect(label).toMatchObject({ kind: 'drift', ts: T0, seq: 0, detail: { perReading: 0.5 } })
    const readings = Number(label?.detail?.readings)
    expect(readings).toBeGreaterThanOrEqual(30)
    steps.slice(0, readings).forEach(({ reading, sent }, k) => {
      expect(temperature(sent[0])).toBeCloseTo((reading.metrics.temperature ?? 0) + 0.5 * (k + 1), 5)
    })
    expect(label?.endTs).toBe(T0 + (readings - 1) * 1_000)
  })

  it('dropout: publishes nothing for the labelled readings, which then show as a seq gap', () => {
    const { steps, labels } = run('dropout:0.05', 200)
    expect(labels.length).toBeGreaterThan(0)
    for (const label of labels) {
      const hit = steps.filter(({ reading }) => reading.ts >= label.startTs && reading.ts <= label.endTs)
      expect(hit.length).toBe(label.detail?.readings)
      expect(hit.every(({ sent }) => sent.length === 0)).toBe(true)
    }
    const silent = steps.filter(({ sent }) => sent.length === 0).length
    expect(silent).toBe(labels.reduce((sum, l) => sum + Number(l.detail?.readings), 0))
  })

  it('duplicate: publishes the same reading twice', () => {
    const { steps, labels } = run('duplicate:0.1')
    const twice = steps.filter(({ sent }) => sent.length === 2)
    expect(twice.length).toBe(labels.length)
    for (const { reading, sent } of twice) expect(sent).toEqual([reading, reading])
    expect(labels.map((l) => l.seq)).toEqual(twice.map(({ reading }) => reading.seq))
  })

  it('malformed: publishes a payload that is not JSON', () => {
    const { steps, labels } = run('malformed:0.1')
    const broken = steps.filter(({ sent }) => typeof sent[0] === 'string')
    expect(broken.length).toBe(labels.length)
    expect(broken.length).toBeGreaterThan(3)
    for (const { sent } of broken) expect(() => JSON.parse(sent[0] as string)).toThrow()
  })

  it('skew: publishes device times beyond what the pipeline accepts from the future', () => {
    const { steps, labels } = run('skew:0.05')
    expect(labels.length).toBeGreaterThan(0)
    const labelled = (ts: number) => labels.some((l) => l.startTs <= ts && ts <= l.endTs)
    for (const { reading, sent } of steps) {
      const ahead = (sent[0] as TelemetryInput).ts - reading.ts
      if (labelled(reading.ts)) expect(ahead).toBeGreaterThan(MAX_FUTURE_MS)
      else expect(ahead).toBe(0)
    }
  })

  it('oversize: publishes a valid reading padded past the 128 KB every edge refuses', () => {
    const { steps, labels } = run('oversize:0.05')
    const big = steps.filter(({ sent }) => typeof sent[0] === 'string')
    expect(big.length).toBe(labels.length)
    expect(big.length).toBeGreaterThan(0)
    for (const { reading, sent } of big) {
      const text = sent[0] as string
      expect(Buffer.byteLength(text)).toBeGreaterThan(MAX_PAYLOAD_BYTES)
      expect(TelemetrySchema.parse(JSON.parse(text))).toMatchObject({ seq: reading.seq })
    }
  })

  it('spoof: publishes the reading under another device id of the fleet', () => {
    const { steps, labels } = run('spoof:0.1')
    const spoofed = steps.filter(
      ({ sent }) => typeof sent[0] === 'object' && sent[0].deviceId !== 'esp32-0001',
    )
    expect(spoofed.length).toBe(labels.length)
    spoofed.forEach(({ reading, sent }, i) => {
      const out = sent[0] as TelemetryInput
      expect(PEERS).toContain(out.deviceId)
      expect(labels[i]?.detail?.as).toBe(out.deviceId)
      expect({ ...out, deviceId: reading.deviceId }).toEqual(reading)
      expect(TelemetrySchema.safeParse(out).success).toBe(true)
    })
    // Alone in its fleet, a device has nobody to pose as.
    const alone = new FaultInjector(parseFaults('spoof:1'), { deviceId: 'esp32-0001', seed: 1 })
    alone.apply(new SimDevice({ deviceId: 'esp32-0001', seed: 1 }).nextReading(T0))
    expect(alone.labels()).toEqual([])
  })

  it('hands out copies of its labels', () => {
    const { labels } = run('spike:1', 1)
    const injector = new FaultInjector(parseFaults('spike:1'), { deviceId: 'esp32-0001', seed: 7 })
    injector.apply(new SimDevice({ deviceId: 'esp32-0001', seed: 7 }).nextReading(T0))
    const mine = injector.labels()
    if (mine[0]?.detail) mine[0].detail.delta = 0
    expect(injector.labels()).toEqual(labels)
  })
})

describe('FaultInjector: burst, schedules, other metrics', () => {
  it('burst: adds noise to the labelled readings, and none outside them', () => {
    const { steps, labels } = run('burst:0.02', 400)
    expect(labels.length).toBeGreaterThan(0)
    const inside = (ts: number) => labels.some((l) => l.startTs <= ts && ts <= l.endTs)
    const deviations: number[] = []
    for (const { reading, sent } of steps) {
      const delta = (temperature(sent[0]) ?? 0) - (reading.metrics.temperature ?? 0)
      if (inside(reading.ts)) deviations.push(delta)
      else expect(delta).toBe(0)
    }
    const sd = Math.sqrt(deviations.reduce((sum, d) => sum + d * d, 0) / deviations.length)
    expect(sd).toBeGreaterThan(4)
    expect(labels[0]).toMatchObject({ kind: 'burst', detail: { metric: 'temperature', sd: 8 } })
  })

  it('a scheduled window affects every reading in it and nothing else, with one label spanning it', () => {
    const rules = parseFaults('dropout:10s+5s,stuck:20s+10s')
    const device = new SimDevice({ deviceId: 'esp32-0001', seed: 1 })
    const injector = new FaultInjector(rules, { deviceId: 'esp32-0001', seed: 1, start: T0 })
    const sent = Array.from({ length: 40 }, (_, i) => {
      const reading = device.nextReading(T0 + i * 1_000)
      return { reading, out: injector.apply(reading) }
    })
    const silent = sent.filter((s) => s.out.length === 0).map((s) => (s.reading.ts - T0) / 1_000)
    expect(silent).toEqual([10, 11, 12, 13, 14])
    const stuck = sent.slice(20, 30).map((s) => temperature(s.out[0]))
    expect(new Set(stuck).size).toBe(1)
    expect(temperature(sent[30]?.out[0])).not.toBe(stuck[0])
    expect(injector.labels()).toEqual([
      expect.objectContaining({ kind: 'dropout', startTs: T0 + 10_000, endTs: T0 + 14_000 }),
      expect.objectContaining({ kind: 'stuck', startTs: T0 + 20_000, endTs: T0 + 29_000 }),
    ])
  })

  it('acts on the metric it is given: a power node browns out on its supply voltage', () => {
    const device = new SimDevice({ deviceId: 'esp32-pwr-0001', seed: 2, type: 'power' })
    const metric = DEVICE_TYPE_INFO.power.faultMetric
    const injector = new FaultInjector(parseFaults('spike:1'), {
      deviceId: 'esp32-pwr-0001',
      seed: 2,
      metric,
    })
    const reading = device.nextReading(T0)
    const [out] = injector.apply(reading) as TelemetryInput[]
    expect(out?.metrics.voltage).toBeCloseTo((reading.metrics.voltage ?? 0) - 4, 5)
    expect(out?.metrics.battery).toBe(reading.metrics.battery)
    expect(injector.labels()[0]).toMatchObject({ detail: { metric: 'voltage', delta: -4 } })
  })
})

describe('countFaults', () => {
  it('counts fault labels by kind, ignoring overheat, with 0 for kinds asked about', () => {
    const labels = [{ kind: 'spike' }, { kind: 'overheat' }, { kind: 'spike' }, { kind: 'spoof' }]
    expect(countFaults(labels, ['spike', 'drift'])).toEqual({ spike: 2, drift: 0, spoof: 1 })
  })
})
