/**
 * The alert lifecycle for one (device, rule): at most one open alert, which may escalate and
 * clears once the rule's condition lets go. Transitions wait in an outbox inside the saved state
 * until the sink has them, so a crash between deciding and delivering re-delivers, never re-decides.
 */
import type { DeviceCommand } from './ports.ts'
import { type Condition, type Rule, SEVERITIES, type Severity } from './rules.ts'

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
  outbox: AlertTransition[]
}

export const emptyAlertState = (): AlertState => ({ watermark: -1, outbox: [] })

/** Applies one reading's condition; returns the next state (the input is not modified). */
export function advance(
  state: AlertState,
  rule: Rule,
  reading: { deviceId: string; ts: number },
  condition: Condition,
): AlertState {
  if (reading.ts <= state.watermark) return state
  const next: AlertState = { ...state, watermark: reading.ts }
  const { open } = state
  const event = (type: TransitionType, alert: Alert): AlertTransition => ({
    type,
    alert,
    at: reading.ts,
    value: condition.value,
    message: condition.message,
  })

  if (!open && condition.active) {
    const alert: Alert = {
      id: `${reading.deviceId}:${rule.id}:${reading.ts}`,
      deviceId: reading.deviceId,
      ruleId: rule.id,
      metric: rule.metric,
      severity: condition.severity,
      openedAt: reading.ts,
      value: condition.value,
      threshold: condition.threshold,
      message: condition.message,
    }
    const opened = event('opened', alert)
    if (rule.command) {
      opened.command = {
        id: `${alert.id}:${rule.command.name}`,
        deviceId: reading.deviceId,
        command: rule.command.name,
        args: rule.command.args,
        reason: `${rule.id}: ${condition.message}`,
      }
    }
    return { ...next, open: alert, outbox: [...state.outbox, opened] }
  }
  if (open && !condition.active) {
    return { ...next, open: undefined, outbox: [...state.outbox, event('cleared', open)] }
  }
  if (open && rank(condition.severity) > rank(open.severity)) {
    const escalated = { ...open, severity: condition.severity }
    return { ...next, open: escalated, outbox: [...state.outbox, event('escalated', escalated)] }
  }
  return next
}

function rank(severity: Severity): number {
  return SEVERITIES.indexOf(severity)
}
