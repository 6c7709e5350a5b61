/**
 * The alert lifecycle for one (device, rule): at most one open alert, which may escalate and
 * clears once the rule's condition lets go. Transitions wait in an outbox inside the saved state
 * until the sink has them, so a crash between deciding and delivering re-delivers, never re-decides.
 */
import type { DeviceCommand } from './ports.ts'
import { describe, detect, type Rule, SEVERITIES, type Severity, thresholdOf } from './rules.ts'

export interface Alert {
  /** Deterministic: a redelivered reading that opens the alert again yields the same id. */
  id: string
  deviceId: string
  ruleId: string
  metric: string
  severity: Severity
  openedAt: number
  value: number
  threshold: number
  message: string
}

export type TransitionType = 'opened' | 'escalated' | 'cleared'

export interface AlertTransition {
  type: TransitionType
  alert: Alert
  /** Device time of the reading that caused the transition. */
  at: number
  value: number
  message: string
  command?: DeviceCommand
}

export interface AlertState {
  /** Device time of the newest reading applied; older readings are stored but do not move the state. */
  watermark: number
  open?: Alert
  /** Device time since which the condition has held, while a rule with `for` waits to open. */
  since?: number
  outbox: AlertTransition[]
}

/** Every AlertState is built with the same fields in the same order, so the hot path sees one shape. */
export const emptyAlertState = (): AlertState => ({
  watermark: -1,
  open: undefined,
  since: undefined,
  outbox: [],
})

/**
 * Applies one reading to a draft of the state, in place: the caller copies the saved state once
 * per batch and folds its readings into the copy. The outbox array is replaced, never changed, so
 * the copy can share it with the saved state (the hot path allocates only on transitions).
 */
export function advance(draft: AlertState, rule: Rule, deviceId: string, ts: number, value: number): void {
  if (ts <= draft.watermark) return
  draft.watermark = ts
  const { open } = draft
  const severity = detect(rule, open !== undefined, value)

  if (!open && severity) {
    if (rule.for) {
      // Not yet: the condition must hold for `for` of device time, on every reading of the metric.
      draft.since ??= ts
      if (ts - draft.since < rule.for) return
    }
    draft.since = undefined
    const message = describe(rule, value, true)
    const alert: Alert = {
      id: `${deviceId}:${rule.id}:${ts}`,
      deviceId,
      ruleId: rule.id,
      metric: rule.metric,
      severity,
      openedAt: ts,
      value,
      threshold: thresholdOf(rule),
      message,
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
  } else if (!open) {
    draft.since = undefined
  } else if (!severity) {
    draft.open = undefined
    draft.outbox = [...draft.outbox, transition('cleared', open, ts, value, describe(rule, value, false))]
  } else if (rank(severity) > rank(open.severity)) {
    const escalated = { ...open, severity }
    draft.open = escalated
    draft.outbox = [
      ...draft.outbox,
      transition('escalated', escalated, ts, value, describe(rule, value, true)),
    ]
  }
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
