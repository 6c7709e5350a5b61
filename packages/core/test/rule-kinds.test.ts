import { describe, expect, it } from 'vitest'
import { type DeviceState, draftOf } from '../src/device-state.ts'
import {
  alertsOf,
  emptyRulesState,
  type Model,
  observe,
  parseModel,
  parseRules,
  type Rule,
  type RuleAlerts,
  type RuleInput,
  type RulesState,
} from '../src/index.ts'
import { OPENED_AT, SINCE, WATERMARK } from '../src/slots.ts'
import { NOW } from './_fixtures.ts'

const SECOND = 1_000

function ruleOf(input: Partial<RuleInput> & Pick<RuleInput, 'kind'>): Rule {
  const [rule] = parseRules([{ id: 'r', severity: 'warning', ...input }])
  if (!rule) throw new Error('no rule')
  return rule
}

/**
 * Feeds values of `metric` one per `every` seconds to one state and lists the transitions as
 * `type@index` (index of the reading that caused it).
 */
function run(
  rule: Rule,
  values: readonly number[],
  { every = 1, metric = 'temperature', models = new Map<string, Model>() } = {},
): { state: RulesState; alerts: Readonly<RuleAlerts>; events: string[] } {
  const state = emptyRulesState()
  values.forEach((value, i) => {
    observe(state, rule, 'd1', NOW + i * every * SECOND, { [metric]: value }, { models })
  })
  const alerts = alertsOf(state, rule.id)
  const events = alerts.outbox.map((t) => `${t.type}@${(t.at - NOW) / (every * SECOND)}`)
  return { state, alerts, events }
}

/** Deterministic noise around a level: a fixed sequence, so tests need no random source. */
const noisy = (n: number, level: number, amplitude: number) =>
  Array.from({ length: n }, (_, i) => level + amplitude * Math.sin(i * 1.7) * Math.cos(i * 0.9))

describe('threshold', () => {
  const hot = ruleOf({ kind: 'threshold', metric: 'temperature', above: 80, clear: 75 })

  it('opens past the threshold, not at it, and clears only past `clear`', () => {
    expect(run(hot, [80, 80.1, 76, 75.1, 75, 74.9]).events).toEqual(['opened@1', 'cleared@5'])
  })

  it('watches from below with `below`', () => {
    const cold = ruleOf({ kind: 'threshold', metric: 'temperature', below: 0, clear: 2 })
    expect(run(cold, [1, -0.5, 1, 2.5]).events).toEqual(['opened@1', 'cleared@3'])
  })
})

describe('rate', () => {
  const rising = ruleOf({ kind: 'rate', metric: 'temperature', rise: 5, per: '1m' })

  it('compares the change between readings per `per`, on device time', () => {
    // One reading a minute: +3, +5 (not past 5), +6, then −10.
    const { events, alerts } = run(rising, [20, 23, 28, 34, 24], { every: 60 })
    expect(events).toEqual(['opened@3', 'cleared@4'])
    expect(alerts.outbox[0]?.value).toBe(6)
  })

  it('scales by the time between readings', () => {
    // 1 °C in 10 s is 6 °C a minute.
    expect(run(rising, [20, 21], { every: 10 }).events).toEqual(['opened@1'])
  })

  it('watches falls with `fall`, as a magnitude', () => {
    const falling = ruleOf({ kind: 'rate', metric: 'temperature', fall: 2, per: '1m' })
    expect(run(falling, [20, 25, 22, 21.5], { every: 60 }).events).toEqual(['opened@2', 'cleared@3'])
  })

  it('refuses a rule with neither rise nor fall', () => {
    expect(() => ruleOf({ kind: 'rate', metric: 'temperature' })).toThrow(
      /rule r rise: set rise, fall or both/,
    )
  })
})

describe('zscore', () => {
  const shifted = ruleOf({ kind: 'zscore', metric: 'temperature', z: 4, warmup: 30, halfLife: 50 })

  it('stays silent while the baseline warms up, however far the values', () => {
    expect(run(shifted, [20, 90, 20, 90, 20]).events).toEqual([])
  })

  it('opens when a value is far from the learned baseline and clears once back near it', () => {
    const values = [...noisy(60, 30, 0.5), 40, 40, 30, 30]
    const { events, alerts } = run(shifted, values)
    expect(events).toEqual(['opened@60', 'cleared@62'])
    expect(alerts.outbox[0]?.message).toMatch(
      /^temperature is \d+(\.\d+)? standard deviations from its baseline/,
    )
  })

  it('does not let a drift teach itself to the baseline as fast as it moves', () => {
    // 0.1 °C a reading away from a baseline of ±0.5 noise: caught well before the drift ends.
    const drift = Array.from({ length: 60 }, (_, i) => 30 + 0.1 * i)
    const { events } = run(shifted, [...noisy(60, 30, 0.5), ...drift])
    expect(events[0]).toMatch(/^opened@/)
    const at = Number(events[0]?.split('@')[1])
    expect(at).toBeGreaterThan(60)
    expect(at).toBeLessThan(120)
  })
})

describe('spike', () => {
  const spike = ruleOf({ kind: 'spike', metric: 'temperature', z: 6, warmup: 10 })

  it('catches one reading that jumps, and clears on the next back in line', () => {
    const values = [...noisy(30, 30, 0.3), 45, 30.1, 30]
    expect(run(spike, values).events).toEqual(['opened@30', 'cleared@31'])
  })

  it('follows `direction`', () => {
    const up = ruleOf({ kind: 'spike', metric: 'temperature', direction: 'up', warmup: 10 })
    expect(run(up, [...noisy(30, 30, 0.3), 15, 30]).events).toEqual([])
    const down = ruleOf({ kind: 'spike', metric: 'temperature', direction: 'down', warmup: 10 })
    expect(run(down, [...noisy(30, 30, 0.3), 15, 30]).events).toEqual(['opened@30', 'cleared@31'])
  })

  it('absorbs a lasting step rather than alerting on every reading after it', () => {
    const { events } = run(spike, [...noisy(30, 30, 0.3), ...noisy(40, 40, 0.3)])
    expect(events[0]).toBe('opened@30')
    expect(events.filter((e) => e.startsWith('opened'))).toHaveLength(1)
    expect(events.at(-1)).toMatch(/^cleared@/)
  })
})

describe('flatline', () => {
  it('opens after N readings within the tolerance and clears when the value moves', () => {
    const stuck = ruleOf({ kind: 'flatline', metric: 'temperature', unchangedReadings: 4, tolerance: 0.01 })
    const { events, alerts } = run(stuck, [30.1, 30.2, 30.2, 30.205, 30.2, 30.2, 31])
    expect(events).toEqual(['opened@4', 'cleared@6'])
    expect(alerts.outbox[0]?.message).toBe('temperature has stayed at 30.2 for 4 readings')
  })

  it('opens after a duration without change', () => {
    const stuck = ruleOf({ kind: 'flatline', metric: 'temperature', unchangedFor: '5m' })
    expect(run(stuck, [30, 30, 30, 30, 30, 30, 30], { every: 60 }).events).toEqual(['opened@5'])
  })
})

describe('model-score', () => {
  const model = parseModel({
    format: 'fleetpipe.model/1',
    deviceType: 'motor',
    version: '2026-11-24.1',
    trainedAt: NOW,
    metrics: ['temperature'],
    baselines: { temperature: { median: 30, mad: 1 } },
    threshold: 3,
  })
  const [scored] = parseRules(
    [{ id: 'motor-model', kind: 'model-score', deviceType: 'motor', severity: 'warning' }],
    [{ name: 'motor', devices: 'd*' }],
  )
  if (!scored) throw new Error('no rule')

  it('scores with the champion model, records its version, and stays quiet without one', () => {
    // z = |x − 30| / 1.4826: 36 scores 4.05, past 3; 33 scores 2.02, below 0.9 × 3.
    const { events, alerts } = run(scored, [30, 36, 33], { models: new Map([['motor', model]]) })
    expect(events).toEqual(['opened@1', 'cleared@2'])
    expect(alerts.outbox[0]?.alert).toMatchObject({
      modelVersion: '2026-11-24.1',
      threshold: 3,
      value: 4.047,
    })
    expect(run(scored, [30, 36, 33]).events).toEqual([])
  })
})

describe('lifecycle options shared by every kind', () => {
  it('clearFor keeps an alert open until the condition has been gone that long', () => {
    const rule = ruleOf({ kind: 'threshold', metric: 'temperature', above: 80, clearFor: '3s' })
    // Flaps at 2 and 4, then stays down from 6.
    const values = [85, 85, 70, 85, 70, 85, 70, 70, 70, 70]
    expect(run(rule, values).events).toEqual(['opened@0', 'cleared@9'])
  })

  it('cooldown keeps a rule quiet after a clear, then opens if the condition still holds', () => {
    const rule = ruleOf({ kind: 'threshold', metric: 'temperature', above: 80, cooldown: '5s' })
    const values = [85, 70, 85, 85, 85, 85, 85, 85]
    expect(run(rule, values).events).toEqual(['opened@0', 'cleared@1', 'opened@6'])
  })

  it('escalate raises the severity of an alert open long enough, once', () => {
    const rule = ruleOf({
      kind: 'threshold',
      metric: 'temperature',
      above: 80,
      escalate: { after: '3s', severity: 'critical' },
    })
    const { events, alerts } = run(rule, [85, 85, 85, 85, 85, 85])
    expect(events).toEqual(['opened@0', 'escalated@3'])
    expect(alerts.open?.severity).toBe('critical')
  })

  it('a reading at or before the watermark moves nothing', () => {
    const rule = ruleOf({ kind: 'threshold', metric: 'temperature', above: 80 })
    const state = emptyRulesState()
    observe(state, rule, 'd1', NOW, { temperature: 70 })
    observe(state, rule, 'd1', NOW - SECOND, { temperature: 90 })
    observe(state, rule, 'd1', NOW, { temperature: 90 })
    expect(alertsOf(state, rule.id).outbox).toEqual([])
    expect(state.numbers[WATERMARK]).toBe(NOW)
  })

  it("keeps the rules' numbers side by side, in the order of their ids", () => {
    const hot = ruleOf({ kind: 'threshold', metric: 'temperature', above: 80, for: '1m' })
    const stuck = ruleOf({ id: 'stuck', kind: 'flatline', metric: 'temperature', unchangedReadings: 5 })
    const state = emptyRulesState()
    observe(state, hot, 'd1', NOW, { temperature: 85 })
    observe(state, stuck, 'd1', NOW, { temperature: 85 })
    expect(state.ids).toEqual(['r', 'stuck'])
    // r: watermark, no memory (a threshold keeps none), holding since NOW, nothing cleared or open.
    // stuck: watermark, a run of 1 reading at 85 since NOW.
    expect(state.numbers).toEqual([
      NOW,
      0,
      0,
      0,
      0,
      0,
      NOW,
      -1,
      -1,
      -1,
      NOW,
      1,
      85,
      NOW,
      0,
      0,
      -1,
      -1,
      -1,
      -1,
    ])
  })
})

describe('device states saved by earlier versions', () => {
  const rule = ruleOf({ kind: 'spike', metric: 'temperature', warmup: 5, z: 4 })
  const open = { id: 'd1:hot:1', ruleId: 'hot', openedAt: NOW - 10 * SECOND, severity: 'warning' }
  const earlier = (r: object) =>
    ({
      rules: {
        r,
        hot: { memory: [NOW - SECOND, 0, 0, 0, 0, 0], open, since: undefined, outbox: [] },
      },
    }) as unknown as DeviceState

  it.each([
    ['named memory fields', { watermark: NOW, n: 40, x: 30.1, t: 0, m: 30, v: 0.01, outbox: [] }],
    ['a memory array', { memory: [NOW, 40, 30.1, 0, 30, 0.01], outbox: [] }],
  ])("reads %s into the rules' numbers, and goes on from the baseline", (_, r) => {
    const { rules } = draftOf(earlier(r))
    expect(rules.ids).toEqual(['r', 'hot'])
    expect(rules.numbers.slice(0, 10)).toEqual([NOW, 40, 30.1, 0, 30, 0.01, -1, -1, -1, -1])
    // The open alert of the other rule: its opening time in the numbers, the alert itself kept.
    expect(rules.numbers[10 + OPENED_AT]).toBe(NOW - 10 * SECOND)
    expect(rules.numbers[10 + SINCE]).toBe(-1)
    expect(alertsOf(rules, 'hot').open).toEqual(open)

    observe(rules, rule, 'd1', NOW - SECOND, { temperature: 99 })
    expect(alertsOf(rules, rule.id).outbox).toEqual([])
    observe(rules, rule, 'd1', NOW + SECOND, { temperature: 99 })
    expect(alertsOf(rules, rule.id).outbox.map((t) => t.type)).toEqual(['opened'])
    expect(rules.numbers[WATERMARK]).toBe(NOW + SECOND)
  })
})

describe('rules files', () => {
  it('resolves device types in order: a type covers its globs minus those of the types before it', () => {
    const rules = parseRules(
      [
        {
          id: 'motor-hot',
          kind: 'threshold',
          metric: 'temperature',
          above: 80,
          deviceType: 'motor',
          severity: 'info',
        },
      ],
      [
        { name: 'env', devices: 'esp32-env-*' },
        { name: 'motor', devices: 'esp32-*' },
      ],
    )
    expect(rules[0]?.typeMatch).toEqual({ include: ['esp32-*'], exclude: ['esp32-env-*'] })
  })

  it('names an unknown device type', () => {
    expect(() =>
      parseRules([{ id: 'x', kind: 'heartbeat', after: '5m', deviceType: 'pump', severity: 'info' }]),
    ).toThrow(/rule x deviceType: pump is not one of the deviceTypes/)
  })
})
