/**
 * Everything ingest remembers about a device, in one StateStore entry: the dedupe window and the
 * state of each rule watching it. O(1) in the device's readings, loaded once per batch, changed on a
 * draft, and saved with a version check.
 */
import {
  type AlertTransition,
  alertsOf,
  alignTo,
  emptyRulesState,
  observeAt,
  type RuleAlerts,
  type RulesState,
} from './alerts.ts'
import type { Context } from './detectors.ts'
import { type EarlierRules, fromEarlier } from './earlier-state.ts'
import { hearStatus } from './heartbeat.ts'
import type { StatusUpdate } from './ports.ts'
import type { PlannedRule, Watchers } from './rule-plan.ts'
import type { RuleOf } from './rules.ts'
import { newWindow, type SeenWindow, see, type Verdict } from './seen.ts'
import { SLOTS } from './slots.ts'
import type { Reading } from './wire.ts'

export interface DeviceState {
  seen?: SeenWindow
  /** The state of the rules watching the device. */
  rules: RulesState
  /**
   * Wall-clock time the outboxes last went from empty to holding transitions. Every saved state
   * has it set exactly while an outbox holds transitions: ingest sets it before saving them, and
   * delivery clears it with the last one.
   */
  pendingSince?: number
}

/**
 * The state to change for this invocation: the loaded value itself, which the StateStore hands over
 * as the caller's own (stores deserialize a fresh copy per load), or a new one. A state saved by an
 * earlier version is brought to today's shape first.
 */
export function draftOf(saved: DeviceState | undefined): DeviceState {
  if (!saved) return { seen: undefined, rules: emptyRulesState(), pendingSince: undefined }
  const rules = saved.rules as RulesState | EarlierRules
  if (!Array.isArray(rules.numbers)) saved.rules = fromEarlier(rules as EarlierRules)
  return saved
}

/** Dedupe verdict for a reading, recorded in the draft's window. */
export function seeReading(draft: DeviceState, reading: Reading): Verdict {
  if (!draft.seen) {
    draft.seen = newWindow(reading)
    return 'new'
  }
  return see(draft.seen, reading)
}

/**
 * Applies the device's stored readings to each rule watching it (see `watchersOf`), in device-time
 * order, then its status messages (birth and last will) to its heartbeat rules. Answers how many
 * transitions it put in the outboxes, so the caller need not look through every outbox to know.
 */
export function applyRules(
  draft: DeviceState,
  deviceId: string,
  readings: readonly Reading[],
  { plans, ids }: Watchers,
  context: Context,
  statuses: readonly StatusUpdate[] | undefined,
): number {
  if (readings.length === 0 && statuses === undefined) return 0
  const ordered = isSorted(readings) ? readings : [...readings].sort((a, b) => a.ts - b.ts)
  const state = draft.rules
  alignTo(state, ids)
  let added = 0
  for (let p = 0, at = 0; p < plans.length; p++, at += SLOTS) {
    const plan = plans[p] as PlannedRule
    // No champion model for the type yet: the rule has nothing to score with.
    if (plan.modelType !== undefined && !context.models.has(plan.modelType)) continue
    const metric = plan.metric
    for (let i = 0; i < ordered.length; i++) {
      const reading = ordered[i] as Reading
      // A reading without the rule's metric says nothing to it.
      const value = metric === undefined ? 0 : reading.metrics[metric]
      if (value === undefined) continue
      if (observeAt(state, at, plan, deviceId, reading.ts, value, reading.metrics, context)) added++
    }
    if (plan.kind === 'heartbeat' && statuses !== undefined && statuses.length > 0) {
      const before = alertsOf(state, plan.id).outbox.length
      for (const status of statuses) {
        const heard = status.ts ?? status.receivedAt
        hearStatus(state, at, plan.rule as RuleOf<'heartbeat'>, deviceId, status.state, heard)
      }
      added += alertsOf(state, plan.id).outbox.length - before
    }
  }
  return added
}

/**
 * Whether any outbox holds transitions, in a state as saved (see `pendingSince`): a state without
 * `pendingSince` holds none, and its alerts need not be looked through to know it.
 */
export function hasPendingTransitions(state: DeviceState): boolean {
  if (state.pendingSince === undefined) return false
  const { alerts } = state.rules
  for (const id in alerts) if ((alerts[id] as RuleAlerts).outbox.length > 0) return true
  return false
}

/**
 * The transitions waiting in the outboxes, in device-time order across rules, and in the rules'
 * order at the same time: the same order however the readings were batched.
 */
export function pendingTransitions(state: DeviceState): AlertTransition[] {
  const { ids, alerts } = state.rules
  const out: AlertTransition[] = []
  for (const id of ids) out.push(...(alerts[id]?.outbox ?? []))
  // Rules that no longer watch the device may still have transitions waiting.
  for (const id in alerts) if (!ids.includes(id)) out.push(...(alerts[id] as RuleAlerts).outbox)
  return out.sort((a, b) => a.at - b.at)
}

/** Names a transition across loads and saves: a reloaded state holds copies, not the same objects. */
export const transitionKey = (t: AlertTransition) => `${t.alert.id}\u0000${t.type}\u0000${t.at}`

/**
 * The same state without the transitions `delivered` names; a rule left with no open alert and
 * nothing waiting keeps no alerts entry.
 */
export function withoutDelivered(state: DeviceState, delivered: ReadonlySet<string>): DeviceState {
  const alerts: Record<string, RuleAlerts> = {}
  let left = false
  for (const [id, rule] of Object.entries(state.rules.alerts)) {
    const outbox = rule.outbox.filter((t) => !delivered.has(transitionKey(t)))
    left ||= outbox.length > 0
    if (rule.open === undefined && outbox.length === 0) continue
    alerts[id] = outbox.length === rule.outbox.length ? rule : { ...rule, outbox }
  }
  return { ...state, rules: { ...state.rules, alerts }, pendingSince: left ? state.pendingSince : undefined }
}

function isSorted(readings: readonly Reading[]): boolean {
  for (let i = 1; i < readings.length; i++)
    if ((readings[i] as Reading).ts < (readings[i - 1] as Reading).ts) return false
  return true
}
