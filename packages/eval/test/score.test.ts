import { describe, expect, it } from 'vitest'
import { type EvalAlert, type EvalLabel, median, score, targetsOf } from '../src/index.ts'

const label = (deviceId: string, kind: EvalLabel['kind'], startTs: number, endTs: number): EvalLabel => ({
  deviceId,
  kind,
  startTs,
  endTs,
})
const alert = (deviceId: string, ruleId: string, kind: string, openedAt: number): EvalAlert => ({
  deviceId,
  ruleId,
  kind,
  openedAt,
})

/*
 * Grace 20 ms, 2 device-days.
 *   L1 d1 overheat [100, 200]   L2 d1 spike [500, 500]   L3 d2 stuck [300, 340]   L4 d2 overheat [1000, 1100]
 * Alerts, by time, all threshold rules ('hot', and 'warm' once):
 *   hot  d1 @110  in L1, hot's first there        → TP   (L1 first seen at 110: delay 10)
 *   warm d1 @130  in L1, warm's first there       → TP   (another rule, same label)
 *   hot  d1 @150  in L1 only, hot had it          → repeat
 *   hot  d3 @150  d3 has no labels                → false
 *   hot  d1 @220  = 200 + 20, still in L1's window → repeat
 *   hot  d1 @221  past every window                → false
 *   hot  d2 @330  in L3                            → TP   (L3 first seen at 330: delay 30)
 *   hot  d1 @500  in L2                            → TP   (L2 first seen at 500: delay 0)
 * 8 alerts: TP 4, FP 4 (2 repeats, 2 false) → precision 0.5, false alerts/device-day 4 / 2 = 2.
 */
const labels = [
  label('d1', 'overheat', 100, 200),
  label('d1', 'spike', 500, 500),
  label('d2', 'stuck', 300, 340),
  label('d2', 'overheat', 1000, 1100),
]
const alerts = [
  alert('d1', 'hot', 'threshold', 150),
  alert('d1', 'hot', 'threshold', 110),
  alert('d1', 'hot', 'threshold', 220),
  alert('d1', 'hot', 'threshold', 221),
  alert('d1', 'hot', 'threshold', 500),
  alert('d2', 'hot', 'threshold', 330),
  alert('d1', 'warm', 'threshold', 130),
  alert('d3', 'hot', 'threshold', 150),
]
const options = { graceMs: 20, deviceDays: 2 }

describe('score', () => {
  it('counts true, repeated and false alerts the same whatever the recall is over', () => {
    for (const targets of [undefined, ['overheat'] as const]) {
      expect(score(alerts, labels, { ...options, targets })).toMatchObject({
        alerts: 8,
        truePositives: 4,
        falsePositives: 4,
        repeats: 2,
        precision: 0.5,
        falsePerDeviceDay: 2,
      })
    }
  })

  it('takes recall over the target labels: a threshold rule over overheats', () => {
    // Overheats L1 (detected, delay 10) and L4 (missed): recall 1/2; F1 = 2·0.5·0.5 / (0.5 + 0.5) = 0.5.
    expect(score(alerts, labels, { ...options, targets: targetsOf('threshold') })).toMatchObject({
      labels: 2,
      detected: 1,
      recall: 0.5,
      f1: 0.5,
      medianDelayMs: 10,
    })
  })

  it('takes recall over every label without targets, with the median of the delays', () => {
    // L1 (10), L2 (0), L3 (30) detected, L4 missed: recall 3/4; F1 = 2·0.5·0.75 / 1.25 = 0.6; median 10.
    const all = score(alerts, labels, options)
    expect(all).toMatchObject({ labels: 4, detected: 3, recall: 0.75, medianDelayMs: 10 })
    expect(all.f1).toBeCloseTo(0.6, 12)
    // Overheats and stuck: L1 (10) and L3 (30) of 3 → recall 2/3, median (10 + 30) / 2 = 20,
    // F1 = 2·0.5·(2/3) / (0.5 + 2/3) = 4/7.
    const two = score(alerts, labels, { ...options, targets: ['overheat', 'stuck'] })
    expect(two).toMatchObject({ labels: 3, detected: 2, medianDelayMs: 20 })
    expect(two.recall).toBeCloseTo(2 / 3, 12)
    expect(two.f1).toBeCloseTo(4 / 7, 12)
  })

  it('credits an alert to a label its rule kind targets before any other', () => {
    // Spike [50, 50] and drift [50, 150] both hold the zscore alert at 50: it goes to drift (zscore's
    // target), so the one at 100, inside the drift only, is a repeat. Credited to the spike instead,
    // the second would have been a true positive for the drift.
    const overlapping = [label('d1', 'spike', 50, 50), label('d1', 'drift', 50, 150)]
    const z = [alert('d1', 'z', 'zscore', 50), alert('d1', 'z', 'zscore', 100)]
    expect(score(z, overlapping, { graceMs: 0, deviceDays: 1 })).toMatchObject({
      truePositives: 1,
      repeats: 1,
    })
    // A spike rule's alert at 50 goes to the spike, leaving the drift to its second alert.
    const s = [alert('d1', 's', 'spike', 50), alert('d1', 's', 'spike', 100)]
    expect(score(s, overlapping, { graceMs: 0, deviceDays: 1 })).toMatchObject({
      truePositives: 2,
      repeats: 0,
    })
  })

  it('leaves precision undefined without alerts, recall and F1 without labels to find', () => {
    // Nothing alerted, one label to find: recall 0, so F1 0.
    expect(score([], labels, { ...options, targets: ['spike'] })).toMatchObject({
      alerts: 0,
      precision: undefined,
      labels: 1,
      recall: 0,
      f1: 0,
      falsePerDeviceDay: 0,
      medianDelayMs: undefined,
    })
    // Two false alerts over 4 device-days, nothing to find.
    const noise = [alert('d1', 'hot', 'threshold', 1), alert('d1', 'hot', 'threshold', 2)]
    expect(score(noise, [], { graceMs: 0, deviceDays: 4 })).toMatchObject({
      precision: 0,
      recall: undefined,
      f1: undefined,
      falsePositives: 2,
      repeats: 0,
      falsePerDeviceDay: 0.5,
    })
  })
})

describe('targetsOf', () => {
  it('reads the one table of which rule kind targets which label kind', () => {
    expect(targetsOf('threshold')).toEqual(['overheat'])
    expect(targetsOf('zscore')).toEqual(['drift', 'burst'])
    expect(targetsOf('rate')).toEqual(['drift'])
    expect(targetsOf('heartbeat')).toEqual(['dropout'])
    expect(targetsOf('model-score')).toEqual([])
  })
})

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([])).toBeUndefined()
  })
})
