/**
 * The alert lifecycle for one (device, rule): at most one open alert, which may escalate and
 * clears once the rule's condition lets go. `for` delays an open until the condition has held that
 * long, `clearFor` delays a clear until it has stayed gone that long (no flapping), `cooldown` keeps
 * a rule quiet for a while after a clear (no storms). Transitions wait in an outbox inside the saved
 * state until the sink has them, so a crash between deciding and delivering re-delivers, never re-decides.
 */
import {
  type Context,
  detect,
  detectorOf,
  M,
  type Memory,
  N,
  newMemory,
  noModels,
  type Observation,
  T,
  V,
  WATERMARK,
  X,
} from './detectors.ts'
import type { DeviceCommand } from './ports.ts'
import { type PlannedRule, planOf } from './rule-plan.ts'
import { type Rule, type RuleKind, SEVERITIES, type Severity } from './rules.ts'

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

export interface AlertState {
  /**
   * The detector's memory (baselines, last values, runs) and, in its WATERMARK slot, the device time
   * of the newest reading applied: older readings are stored but do not move the state.
   */
  memory: Memory
  open?: Alert
  /** Since when the condition has held, while the alert waits to open (`for`, `cooldown`). */
  since?: number
  /** Since when the condition has been gone, while the open alert waits to clear (`clearFor`). */
  quiet?: number
  /** When the last alert cleared, for `cooldown`. */
  clearedAt?: number
  outbox: AlertTransition[]
}

/** Every AlertState is built with the same fields in the same order, so the hot path sees one shape. */
export const emptyAlertState = (): AlertState => ({
  memory: newMemory(),
  open: undefined,
  since: undefined,
  quiet: undefined,
  clearedAt: undefined,
  outbox: [],
})

/** A state as saved before the memory was one array: its named numbers. */
interface NamedMemory {
  watermark?: number
  n?: number
  x?: number
  t?: number
  m?: number
  v?: number
}

/**
 * The state's memory; a state saved in an earlier shape (named fields, or none for a rule kind that
 * kept no memory then) gets its numbers moved into the array first, once.
 */
export function memoryOf(state: AlertState): Memory {
  if (state.memory !== undefined) return state.memory
  const named = state as AlertState & NamedMemory
  const memory = newMemory()
  memory[WATERMARK] = named.watermark ?? -1
  memory[N] = named.n ?? 0
  memory[X] = named.x ?? 0
  memory[T] = named.t ?? 0
  memory[M] = named.m ?? 0
  memory[V] = named.v ?? 0
  for (const key of ['watermark', 'n', 'x', 't', 'm', 'v'] as const) delete named[key]
  state.memory = memory
  return memory
}

const seen: Observation = { holds: false, value: 0 }

/**
 * Applies one reading to the state, in place (the state is the invocation's own: see draftOf). The
 * hot path allocates only on transitions; the outbox array is replaced, never changed.
 */
export function observe(
  draft: AlertState,
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
  observePlanned(draft, plan, deviceId, ts, value, metrics, context)
}

/**
 * `observe` for a planned rule, given the reading's value of its metric (found present). Answers
 * whether it put a transition in the outbox.
 */
export function observePlanned(
  draft: AlertState,
  plan: PlannedRule,
  deviceId: string,
  ts: number,
  value: number,
  metrics: Record<string, number>,
  context: Context,
): boolean {
  const memory = memoryOf(draft)
  if (ts <= (memory[WATERMARK] as number)) return false
  if (!detect(plan, memory, ts, value, metrics, draft.open !== undefined, context, seen)) return false
  memory[WATERMARK] = ts
  return settlePlanned(draft, plan, deviceId, ts, seen.holds, seen.value, context)
}

/** `observe` for one metric's value: what rule tests and fixtures mostly need. */
export function advance(draft: AlertState, rule: Rule, deviceId: string, ts: number, value: number): void {
  observe(draft, rule, deviceId, ts, 'metric' in rule ? { [rule.metric]: value } : {})
}

/**
 * Moves the lifecycle on, given whether the condition holds at `ts`: opens (after `for`, outside a
 * cooldown), escalates (after `escalate.after`), clears (after `clearFor`).
 */
export function settle(
  draft: AlertState,
  rule: Rule,
  deviceId: string,
  ts: number,
  holds: boolean,
  value: number,
  context: Context = noModels,
  message?: string,
): void {
  settlePlanned(draft, planOf(rule), deviceId, ts, holds, value, context, message)
}

/**
 * `settle` for a planned rule; answers whether it put a transition in the outbox. Mostly the
 * condition does not hold and no alert is open: that case stays here, small enough for V8 to
 * inline into the rules loop; the rest goes on in functions of their own.
 */
function settlePlanned(
  draft: AlertState,
  plan: PlannedRule,
  deviceId: string,
  ts: number,
  holds: boolean,
  value: number,
  context: Context,
  message?: string,
): boolean {
  const { open } = draft
  if (!open) {
    if (holds) return holdsWhileClosed(draft, plan, deviceId, ts, value, context, message)
    draft.since = undefined
    return false
  }
  return holds
    ? holdsWhileOpen(draft, plan, open, ts, value)
    : goneWhileOpen(draft, plan, open, ts, value, message)
}

/** The condition holds and no alert is open: opens one, after `for` and outside a cooldown. */
function holdsWhileClosed(
  draft: AlertState,
  plan: PlannedRule,
  deviceId: string,
  ts: number,
  value: number,
  context: Context,
  message: string | undefined,
): boolean {
  draft.since ??= ts
  if (plan.forMs && ts - draft.since < plan.forMs) return false
  if (plan.cooldownMs && draft.clearedAt !== undefined && ts - draft.clearedAt < plan.cooldownMs) return false
  draft.since = undefined
  openAlert(draft, plan.rule, deviceId, ts, value, context, message)
  return true
}

/** The condition holds and the alert is open: escalates it, once open `escalate.after`. */
function holdsWhileOpen(
  draft: AlertState,
  plan: PlannedRule,
  open: Alert,
  ts: number,
  value: number,
): boolean {
  draft.quiet = undefined
  const escalate = plan.escalate
  if (!escalate || ts - open.openedAt < escalate.after || rank(escalate.severity) <= rank(open.severity))
    return false
  const escalated = { ...open, severity: escalate.severity }
  draft.open = escalated
  const text = `${describe(plan.rule, value, true, draft)}; open ${Math.round((ts - open.openedAt) / 1000)}s`
  draft.outbox = [...draft.outbox, transition('escalated', escalated, ts, value, text)]
  return true
}

/** The condition is gone and the alert is open: clears it, once gone `clearFor`. */
function goneWhileOpen(
  draft: AlertState,
  plan: PlannedRule,
  open: Alert,
  ts: number,
  value: number,
  message: string | undefined,
): boolean {
  draft.quiet ??= ts
  if (plan.clearForMs && ts - draft.quiet < plan.clearForMs) return false
  draft.open = undefined
  draft.quiet = undefined
  draft.clearedAt = ts
  const text = message ?? describe(plan.rule, value, false, draft)
  draft.outbox = [...draft.outbox, transition('cleared', open, ts, value, text)]
  return true
}

function openAlert(
  draft: AlertState,
  rule: Rule,
  deviceId: string,
  ts: number,
  value: number,
  context: Context,
  message = describe(rule, value, true, draft),
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
  draft.open = alert
  draft.outbox = [...draft.outbox, opened]
}

function describe(rule: Rule, value: number, active: boolean, draft: AlertState): string {
  return detectorOf(rule).describe(rule, value, active, memoryOf(draft))
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
