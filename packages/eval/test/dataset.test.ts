import type { TelemetryInput } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { deviceDays, type EvalLabel, generateDataset, LABEL_KINDS, type LabelKind } from '../src/index.ts'

const INTERVAL = 10_000
/** High rates on a small fleet: every kind shows up several times in two hours. */
const RATES = { overheat: 1, spike: 2, stuck: 1.5, drift: 1, dropout: 1.5, burst: 1.5 }
const OPTIONS = { devices: 6, hours: 2, intervalMs: INTERVAL, seed: 7, rates: RATES }
const NO_FAULTS = { spike: 0, stuck: 0, drift: 0, dropout: 0, burst: 0 }

const temperature = (reading: TelemetryInput | undefined) => reading?.metrics.temperature as number
const key = (deviceId: string, ts: number) => `${deviceId}@${ts}`

describe('generateDataset', () => {
  it('gives the same readings and labels for the same seed, and others for another', () => {
    const a = generateDataset(OPTIONS)
    expect(generateDataset(OPTIONS)).toEqual(a)
    const b = generateDataset({ ...OPTIONS, seed: 8 })
    expect(b.readings.map(temperature)).not.toEqual(a.readings.map(temperature))
    expect(b.labels).not.toEqual(a.labels)
  })

  it('spans the devices and hours asked for, in time order, one reading per device per interval', () => {
    const clean = generateDataset({ ...OPTIONS, rates: { overheat: 0, ...NO_FAULTS } })
    expect(clean.labels).toEqual([])
    expect(clean.deviceIds).toHaveLength(6)
    expect(clean.end - clean.start).toBe(2 * 3_600_000)
    expect(deviceDays(clean)).toBe(0.5)
    expect(clean.readings).toHaveLength(6 * 720)
    const ts = clean.readings.map((r) => r.ts)
    expect(ts).toEqual([...ts].sort((x, y) => x - y))
    for (const id of clean.deviceIds) {
      const own = clean.readings.filter((r) => r.deviceId === id)
      own.forEach((r, i) => {
        if (i > 0) expect(r.ts - (own[i - 1] as TelemetryInput).ts).toBe(INTERVAL)
      })
      expect(own.map((r) => r.seq)).toEqual(own.map((_, i) => i))
    }
  })

  it('labels exactly the readings the anomalies changed', () => {
    const faulty = generateDataset(OPTIONS)
    // Same seed and overheats, no faults: the readings as the devices took them.
    const clean = generateDataset({ ...OPTIONS, rates: { ...RATES, ...NO_FAULTS } })
    const taken = new Map(clean.readings.map((r) => [key(r.deviceId, r.ts), r]))
    const sent = new Map(faulty.readings.map((r) => [key(r.deviceId, r.ts), r]))
    const window = (label: EvalLabel) => {
      const slots: number[] = []
      const first = clean.readings.find((r) => r.deviceId === label.deviceId && r.ts >= label.startTs)
      for (let ts = first?.ts ?? label.endTs + 1; ts <= label.endTs; ts += INTERVAL) slots.push(ts)
      return slots
    }
    // Anomalies that overlap another on the same device (a reading either side) are checked only
    // for being there: their readings carry both changes.
    const alone = (label: EvalLabel) =>
      !faulty.labels.some(
        (other) =>
          other !== label &&
          other.deviceId === label.deviceId &&
          other.startTs <= label.endTs + INTERVAL &&
          other.endTs >= label.startTs - INTERVAL,
      )
    const checked = Object.fromEntries(LABEL_KINDS.map((kind) => [kind, 0])) as Record<LabelKind, number>

    for (const label of faulty.labels) {
      const slots = window(label)
      expect(slots.length).toBeGreaterThan(0)
      if (label.kind !== 'dropout') expect(slots.some((ts) => sent.has(key(label.deviceId, ts)))).toBe(true)
      if (!alone(label)) continue
      checked[label.kind]++
      const before = temperature(sent.get(key(label.deviceId, (slots[0] as number) - INTERVAL)))
      const pairs = slots.map((ts) => ({
        was: temperature(taken.get(key(label.deviceId, ts))),
        now: temperature(sent.get(key(label.deviceId, ts))),
      }))
      switch (label.kind) {
        case 'overheat':
          for (const { was, now } of pairs) {
            expect(was).toBeGreaterThanOrEqual(88)
            expect(now).toBe(was)
          }
          break
        case 'spike':
          expect(pairs).toHaveLength(1)
          expect(pairs[0]?.now).toBeCloseTo((pairs[0]?.was as number) + 40, 2)
          break
        case 'stuck':
          // The value last sent, repeated for the whole label.
          for (const { now } of pairs) expect(now).toBe(before)
          break
        case 'drift':
          pairs.forEach(({ was, now }, j) => {
            expect(now - was).toBeCloseTo(0.5 * (j + 1), 1)
          })
          break
        case 'dropout':
          for (const { now } of pairs) expect(now).toBeUndefined()
          break
        case 'burst':
          expect(pairs.some(({ was, now }) => now !== was)).toBe(true)
          break
      }
    }
    for (const kind of LABEL_KINDS) expect(checked[kind], kind).toBeGreaterThanOrEqual(3)

    // Outside every fault label, the readings went out as taken.
    const faults = faulty.labels.filter((l) => l.kind !== 'overheat')
    for (const reading of clean.readings) {
      const covered = faults.some(
        (l) => l.deviceId === reading.deviceId && l.startTs <= reading.ts && reading.ts <= l.endTs,
      )
      if (!covered) expect(sent.get(key(reading.deviceId, reading.ts))).toEqual(reading)
    }
  })

  it('refuses options that make no dataset', () => {
    expect(() => generateDataset({ devices: 0 })).toThrow(/devices must be/)
    expect(() => generateDataset({ hours: 0 })).toThrow(/hours must be/)
    expect(() => generateDataset({ rates: { spike: -1 } })).toThrow(/spike rate/)
  })
})
