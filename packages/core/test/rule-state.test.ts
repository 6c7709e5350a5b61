import { describe, expect, it } from 'vitest'
import { type DeviceState, deviceStateKey, ingest, parseRules } from '../src/index.ts'
import { ManualClock, memoryDeps } from '../src/memory.ts'
import { N, SLOTS, WATERMARK } from '../src/slots.ts'
import { message, NOW, reading } from './_fixtures.ts'

const SECOND = 1_000
const hot = { id: 'hot', kind: 'threshold', metric: 'temperature', above: 80, severity: 'warning' } as const
const stuck = {
  id: 'stuck',
  kind: 'flatline',
  metric: 'temperature',
  unchangedReadings: 3,
  severity: 'warning',
} as const
const cold = { id: 'cold', kind: 'threshold', metric: 'temperature', below: 0, severity: 'warning' } as const

describe("a device's rule state when the rules file changes", () => {
  it("moves the rules' numbers by id, starts new rules at rest, and keeps the alerts of removed ones", async () => {
    const deps = memoryDeps(new ManualClock(NOW + 10 * SECOND))
    const send = (seq: number, rules: ReturnType<typeof parseRules>) =>
      ingest([message(reading({ ts: NOW + seq * SECOND, seq, metrics: { temperature: 85 } }))], deps, {
        rules,
      })
    const saved = () => {
      const entry = deps.state.entries.get(deviceStateKey('esp32-0001'))
      return JSON.parse(entry?.value ?? '{}') as DeviceState
    }

    const before = parseRules([hot, stuck])
    expect((await send(1, before)).transitions.map((t) => `${t.type} ${t.alert.ruleId}`)).toEqual([
      'opened hot',
    ])
    await send(2, before)
    expect(saved().rules.ids).toEqual(['hot', 'stuck'])

    // The file now drops `hot`, adds `cold`, and lists `stuck` first.
    const after = parseRules([stuck, cold])
    const third = await send(3, after)
    // `stuck` goes on from its run of two: the third unchanged reading opens it.
    expect(third.transitions.map((t) => `${t.type} ${t.alert.ruleId}`)).toEqual(['opened stuck'])
    const { rules } = saved()
    expect(rules.ids).toEqual(['stuck', 'cold'])
    expect(rules.numbers).toHaveLength(2 * SLOTS)
    expect(rules.numbers[N]).toBe(3)
    expect(rules.numbers[SLOTS + WATERMARK]).toBe(NOW + 3 * SECOND)
    expect(rules.numbers[SLOTS + N]).toBe(0)
    // `hot` watches no more: its numbers are gone, its open alert stays where `fleetpipe alerts` finds it.
    expect(rules.alerts.hot?.open?.id).toBe(`esp32-0001:hot:${NOW + SECOND}`)
  })
})
