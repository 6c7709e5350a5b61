/**
 * Device states saved by earlier versions of fleetpipe, read into today's shape (see RulesState):
 * a stage upgraded in place keeps its baselines, open alerts and waiting transitions.
 *
 * Earlier, each rule had an object of its own, by rule id: its memory as an array — WATERMARK, N,
 * X, T, M, V, as slots.ts still lays them out — or, before that, as named numbers; its lifecycle's
 * times as optional fields; its open alert and outbox beside them.
 */
import type { Alert, AlertTransition, RuleAlerts, RulesState } from './alerts.ts'
import { CLEARED_AT, OPENED_AT, pushRestingSlots, QUIET, SINCE, V } from './slots.ts'

interface EarlierRule {
  memory?: number[]
  watermark?: number
  n?: number
  x?: number
  t?: number
  m?: number
  v?: number
  open?: Alert
  since?: number
  quiet?: number
  clearedAt?: number
  outbox?: AlertTransition[]
}

/** By rule id. */
export type EarlierRules = Record<string, EarlierRule>

export function fromEarlier(earlier: EarlierRules): RulesState {
  const ids = Object.keys(earlier)
  const numbers: number[] = []
  const alerts: Record<string, RuleAlerts> = {}
  for (const id of ids) {
    const rule = earlier[id] as EarlierRule
    const at = numbers.length
    pushRestingSlots(numbers)
    const memory = rule.memory ?? [rule.watermark, rule.n, rule.x, rule.t, rule.m, rule.v]
    for (let slot = 0; slot <= V; slot++) {
      const value = memory[slot]
      if (typeof value === 'number') numbers[at + slot] = value
    }
    if (rule.since !== undefined) numbers[at + SINCE] = rule.since
    if (rule.quiet !== undefined) numbers[at + QUIET] = rule.quiet
    if (rule.clearedAt !== undefined) numbers[at + CLEARED_AT] = rule.clearedAt
    if (rule.open) numbers[at + OPENED_AT] = rule.open.openedAt
    const outbox = rule.outbox ?? []
    if (rule.open || outbox.length > 0) alerts[id] = { open: rule.open, outbox }
  }
  return { ids, numbers, alerts }
}
