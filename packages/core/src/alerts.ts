/**
 * The alert lifecycle for one (device, rule): at most one open alert, which may escalate and
 * clears once the rule's condition lets go. `for` delays an open until the condition has held that
 * long, `clearFor` delays a clear until it has stayed gone that long (no flapping), `cooldown` keeps
 * a rule quiet for a while after a clear (no storms). Transitions wait in an outbox inside the saved
 * state until the sink has them, so a crash between deciding and delivering re-delivers, never re-decides.
 */
import { type Context, detect, detectorOf, noModels, type Observation, reported } from './detectors.ts'
import type { DeviceCommand } from './ports.ts'
import { type PlannedRule, planOf } from './rule-plan.ts'
import { type Rule, type RuleKind, SEVERITIES, type Severity } from './rules.ts'
import { CLEARED_AT, OPENED_AT, pushRestingSlots, QUIET, SINCE, SLOTS, UNSET, WATERMARK } from './slots.ts'

export interface Alert {
  /** Deterministic: a redelivered reading that opens the alert again yields the same id. */
  id: string
  deviceId: string
  ruleId: string
  kind: RuleKind
  /** The rule's metric; `heartbeat` or `score` for rules that watch no single metric. */
  metric: string
  severity: Severity
  openedAt: number
  value: number
  threshold: number
  message: string
  /** The model that scored the reading, for model-score rules. */
  modelVersion?: string
}

export type TransitionType = 'opened' | 'escalated' | 'cleared'

export interface AlertTransition {
  type: TransitionType
  alert: Alert
  /** Device time of the reading that caused the transition (the sweep's time for a silent device). */
  at: number
  value: number
  message: string
  command?: DeviceCommand
}

/** A rule's open alert for a device, and the transitions waiting for the sink. */
export interface RuleAlerts {
  open?: Alert
  outbox: AlertTransition[]
}

/**
 * The state of the rules watching one device: each rule's numbers — its detector's memory and its
 * lifecycle's times, SLOTS apiece in the order of `ids` (see slots.ts) — and, by rule id, the alerts
 * of the rules that have an open one or transitions waiting. O(1) in the device's readings.
 */
export interface RulesState {
  ids: readonly string[]
  numbers: number[]
  alerts: Record<string, RuleAlerts>
}

export const emptyRulesState = (): RulesState => ({ ids: [], numbers: [], alerts: {} })

/** Where a rule's numbers start in the state; a rule new to it gets numbers at rest, at the end. */
export function slotOf(state: RulesState, ruleId: string): number {
  const at = findSlot(state, ruleId)
  if (at !== undefined) return at
  state.ids = [...state.ids, ruleId]
  pushRestingSlots(state.numbers)
  return (state.ids.length - 1) * SLOTS
}

/** Where a rule's numbers start in the state, if it has any. */
export function findSlot(state: RulesState, ruleId: string): number | undefined {
  const index = state.ids.indexOf(ruleId)
  return index < 0 ? undefined : index * SLOTS
}

/**
 * Lays the numbers out in the order of `ids` (the rules now watching the device), moving each
 * rule's by id: a rule new to the device starts at rest; the numbers of a rule that no longer
 * watches it are dropped (its alerts stay, so nothing waiting is lost). Mostly the layout is
 * already that one, and this only says so.
 */
export function alignTo(state: RulesState, ids: readonly string[]): void {
  if (state.ids === ids) return
  if (!sameIds(state.ids, ids)) {
    const numbers: number[] = []
    for (const id of ids) {
      const from = state.ids.indexOf(id) * SLOTS
      if (from < 0) pushRestingSlots(numbers)
      else for (let i = from; i < from + SLOTS; i++) numbers.push(state.numbers[i] as number)
    }
    state.numbers = numbers
  }
  // The same array as the rule plan's from now on: the next check is one comparison.
  state.ids = ids
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const seen: Observation = { holds: false, value: 0 }

/**
 * Applies one reading to a rule's state for the device, in place (the state is the invocation's
 * own: see draftOf). The hot path allocates only on transitions; an outbox array is replaced,
 * never changed.
 */
export function observe(
  state: RulesState,
  rule: Rule,
  deviceId: string,
  ts: number,
  metrics: Record<string, number>,
  context: Context = noModels,
): void {
  const plan = planOf(rule)
  const value = plan.metric === undefined ? 0 : metrics[plan.metric]
  // A reading without the rule's metric says nothing to it.
  if (value === undefined) return
  observeAt(state, slotOf(state, rule.id), plan, deviceId, ts, value, metrics, context)
}

/**
 * `observe` for a planned rule whose numbers start `at`, given the reading's value of its metric
 * (found present). Answers whether it put a transition in the outbox.
 */
export function observeAt(
  state: RulesState,
  at: number,
  plan: PlannedRule,
  deviceId: string,
  ts: number,
  value: number,
  metrics: Record<string, number>,
  context: Context,
): boolean {
  const numbers = state.numbers
  if (ts <= (numbers[at + WATERMARK] as number)) return false
  if (!detect(plan, numbers, at, ts, value, metrics, isOpen(state, at), context, seen)) return false
  numbers[at + WATERMARK] = ts
  return settleAt(state, at, plan, deviceId, ts, seen.holds, seen.value, context)
}

/** `observe` for one metric's value: what rule tests and fixtures mostly need. */
export function advance(state: RulesState, rule: Rule, deviceId: string, ts: number, value: number): void {
  observe(state, rule, deviceId, ts, 'metric' in rule ? { [rule.metric]: value } : {})
}

/** Whether the rule whose numbers start `at` has an open alert. */
export function isOpen(state: RulesState, at: number): boolean {
  return state.numbers[at + OPENED_AT] !== UNSET
}

/** The rule's open alert and waiting transitions (none, for a rule without any). */
export function alertsOf(state: RulesState, ruleId: string): Readonly<RuleAlerts> {
  return state.alerts[ruleId] ?? NO_ALERTS
}

const NO_ALERTS: Readonly<RuleAlerts> = Object.freeze({ open: undefined, outbox: Object.freeze([]) as [] })

/**
 * Moves the lifecycle of the rule whose numbers start `at` on, given whether the condition holds at
 * `ts`: opens (after `for`, outside a cooldown), escalates (after `escalate.after`), clears (after
 * `clearFor`); answers whether it put a transition in the outbox. Mostly the condition does not hold
 * and no alert is open: that case stays here, small enough for V8 to inline into the rules loop; the
 * rest goes on in functions of their own.
 */
export function settleAt(
  state: RulesState,
  at: number,
  plan: PlannedRule,
  deviceId: string,
  ts: number,
  holds: boolean,
  value: number,
  context: Context,
  message?: string,
): boolean {
  if (!isOpen(state, at)) {
    if (holds) return holdsWhileClosed(state, at, plan, deviceId, ts, reported(plan, value), context, message)
    state.numbers[at + SINCE] = UNSET
    return false
  }
  const shown = reported(plan, value)
  return holds
    ? holdsWhileOpen(state, at, plan, ts, shown)
    : goneWhileOpen(state, at, plan, ts, shown, message)
}

/** The condition holds and no alert is open: opens one, after `for` and outside a cooldown. */
function holdsWhileClosed(
  state: RulesState,
  at: number,
  plan: PlannedRule,
  deviceId: string,
  ts: number,
  value: number,
  context: Context,
  message: string | undefined,
): boolean {
  const numbers = state.numbers
  if (numbers[at + SINCE] === UNSET) numbers[at + SINCE] = ts
  if (plan.forMs && ts - (numbers[at + SINCE] as number) < plan.forMs) return false
  const clearedAt = numbers[at + CLEARED_AT] as number
  if (plan.cooldownMs && clearedAt !== UNSET && ts - clearedAt < plan.cooldownMs) return false
  numbers[at + SINCE] = UNSET
  openAlert(state, at, plan.rule, deviceId, ts, value, context, message)
  return true
}

/** The condition holds and the alert is open: escalates it, once open `escalate.after`. */
function holdsWhileOpen(
  state: RulesState,
  at: number,
  plan: PlannedRule,
  ts: number,
  value: number,
): boolean {
  const numbers = state.numbers
  numbers[at + QUIET] = UNSET
  const escalate = plan.escalate
  if (!escalate || ts - (numbers[at + OPENED_AT] as number) < escalate.after) return false
  const alerts = state.alerts[plan.id]
  const open = alerts?.open
  if (!alerts || !open || rank(escalate.severity) <= rank(open.severity)) return false
  const escalated = { ...open, severity: escalate.severity }
  alerts.open = escalated
  const text = `${describe(plan.rule, value, true, state, at)}; open ${Math.round((ts - open.openedAt) / 1000)}s`
  alerts.outbox = [...alerts.outbox, transition('escalated', escalated, ts, value, text)]
  return true
}

/** The condition is gone and the alert is open: clears it, once gone `clearFor`. */
function goneWhileOpen(
  state: RulesState,
  at: number,
  plan: PlannedRule,
  ts: number,
  value: number,
  message: string | undefined,
): boolean {
  const numbers = state.numbers
  if (numbers[at + QUIET] === UNSET) numbers[at + QUIET] = ts
  if (plan.clearForMs && ts - (numbers[at + QUIET] as number) < plan.clearForMs) return false
  numbers[at + OPENED_AT] = UNSET
  numbers[at + QUIET] = UNSET
  numbers[at + CLEARED_AT] = ts
  const alerts = state.alerts[plan.id]
  const open = alerts?.open
  if (!alerts || !open) return false
  alerts.open = undefined
  const text = message ?? describe(plan.rule, value, false, state, at)
  alerts.outbox = [...alerts.outbox, transition('cleared', open, ts, value, text)]
  return true
}

function openAlert(
  state: RulesState,
  at: number,
  rule: Rule,
  deviceId: string,
  ts: number,
  value: number,
  context: Context,
  message = describe(rule, value, true, state, at),
): void {
  const detector = detectorOf(rule)
  const alert: Alert = {
    id: `${deviceId}:${rule.id}:${ts}`,
    deviceId,
    ruleId: rule.id,
    kind: rule.kind,
    metric: 'metric' in rule ? rule.metric : rule.kind === 'heartbeat' ? 'heartbeat' : 'score',
    severity: rule.severity,
    openedAt: ts,
    value,
    threshold: detector.limit(rule, context),
    message,
  }
  if (rule.kind === 'model-score') {
    const version = context.models.get(rule.deviceType)?.version
    if (version) alert.modelVersion = version
  }
  const opened = transition('opened', alert, ts, value, message)
  if (rule.command) {
    opened.command = {
      id: `${alert.id}:${rule.command.name}`,
      deviceId,
      command: rule.command.name,
      args: rule.command.args,
      reason: `${rule.id}: ${message}`,
    }
  }
  state.numbers[at + OPENED_AT] = ts
  const outbox = state.alerts[rule.id]?.outbox ?? []
  state.alerts[rule.id] = { open: alert, outbox: [...outbox, opened] }
}

function describe(rule: Rule, value: number, active: boolean, state: RulesState, at: number): string {
  return detectorOf(rule).describe(rule, value, active, state.numbers, at)
}

function transition(
  type: TransitionType,
  alert: Alert,
  at: number,
  value: number,
  message: string,
): AlertTransition {
  return { type, alert, at, value, message }
}

function rank(severity: Severity): number {
  return SEVERITIES.indexOf(severity)
}
