import { describe, expect, it } from 'vitest'
import {
  advance,
  alertsOf,
  emptyRulesState,
  ingest,
  parseRules,
  RulesError,
  type RulesState,
} from '../src/index.ts'
import { ManualClock, memoryDeps } from '../src/memory.ts'
import { SINCE } from '../src/slots.ts'
import { message, NOW } from './_fixtures.ts'

const SECOND = 1_000
const [hot] = parseRules([
  {
    id: 'hot',
    kind: 'threshold',
    metric: 'temperature',
    above: 80,
    clear: 75,
    for: '1m',
    severity: 'critical',
  },
])
if (!hot) throw new Error('no rule')

/** Feeds (seconds, value) pairs to one state, as readings of one device in device-time order. */
function feed(state: RulesState, readings: [number, number][]): string[] {
  for (const [s, value] of readings)
    advance(state, hot as NonNullable<typeof hot>, 'd1', NOW + s * SECOND, value)
  return alertsOf(state, 'hot').outbox.map((t) => `${t.type}@${(t.at - NOW) / SECOND}`)
}

describe('a threshold held for a duration', () => {
  it('reads `for` as a duration and says so in the alert', () => {
    expect(hot.for).toBe(60_000)
    const state = emptyRulesState()
    feed(state, [
      [0, 85],
      [60, 86],
    ])
    expect(alertsOf(state, 'hot').open?.message).toBe('temperature 86 is above 80 for 1m')
  })

  it('opens only once the condition has held that long, at the reading that completes it', () => {
    const state = emptyRulesState()
    expect(
      feed(state, [
        [0, 85],
        [30, 90],
        [59, 88],
      ]),
    ).toEqual([])
    expect(state.numbers[SINCE]).toBe(NOW)
    expect(feed(state, [[60, 84]])).toEqual(['opened@60'])
    expect(state.numbers[SINCE]).toBe(-1)
  })

  it('starts counting again when the condition lets go, and clears with hysteresis as before', () => {
    const state = emptyRulesState()
    expect(
      feed(state, [
        [0, 85],
        [40, 79],
        [50, 85],
        [100, 85],
      ]),
    ).toEqual([])
    expect(
      feed(state, [
        [110, 85],
        [120, 78],
        [130, 74],
      ]),
    ).toEqual(['opened@110', 'cleared@130'])
  })

  it('refuses a `for` that is not a duration, naming the rule and field', () => {
    const bad = { id: 'hot', kind: 'threshold', metric: 'temperature', above: 80, severity: 'critical' }
    expect(() => parseRules([{ ...bad, for: 'soon' }])).toThrow(RulesError)
    expect(() => parseRules([{ ...bad, for: 'soon' }])).toThrow(/rule hot for: must be a duration/)
    expect(() => parseRules([{ ...bad, for: -5 }])).toThrow(/rule hot for/)
  })

  it('opens once through ingest, redelivered and split across batches', async () => {
    const deps = memoryDeps(new ManualClock(NOW + 10 * 60 * SECOND))
    const reading = (seq: number, temperature: number) =>
      message({ v: 1, deviceId: 'd1', ts: NOW + seq * 20 * SECOND, seq, metrics: { temperature } })
    const first = [reading(1, 85), reading(2, 86), reading(3, 87)]
    await ingest(first, deps, { rules: [hot] })
    expect(deps.alerts.transitions).toEqual([])
    // 60 s after the first reading: it opens; the redelivered readings change nothing.
    await ingest([...first, reading(4, 88)], deps, { rules: [hot] })
    await ingest([reading(4, 88), reading(5, 89)], deps, { rules: [hot] })
    expect(deps.alerts.transitions.map((t) => [t.type, t.at])).toEqual([['opened', NOW + 80 * SECOND]])
  })
})
