/**
 * Everything ingest remembers about a device, in one StateStore entry: the dedupe window and the
 * state of each rule watching it. O(1) in the device's readings, loaded once per batch, changed on a
 * draft, and saved with a version check.
 */
import { type AlertState, type AlertTransition, emptyAlertState, observe } from './alerts.ts'
import { type Context, noModels } from './detectors.ts'
import { hearStatus } from './heartbeat.ts'
import type { StatusUpdate } from './ports.ts'
import { type Rule, rulesFor } from './rules.ts'
import { newWindow, type SeenWindow, see, type Verdict } from './seen.ts'
import type { Reading } from './wire.ts'

export interface DeviceState {
  seen?: SeenWindow
  /** By rule id. */
  rules: Record<string, AlertState>
  /** Wall-clock time the outboxes last went from empty to holding transitions. */
  pendingSince?: number
}

export const DEVICE_STATE_PREFIX = 'device/'
export const deviceStateKey = (deviceId: string) => `${DEVICE_STATE_PREFIX}${deviceId}`

/**
 * The state to change for this invocation: the loaded value itself, which the StateStore hands over
 * as the caller's own (stores deserialize a fresh copy per load), or a new one.
 */
export function draftOf(saved: DeviceState | undefined): DeviceState {
  return saved ?? { seen: undefined, rules: {}, pendingSince: undefined }
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
 * Applies the device's stored readings to each rule watching it, in device-time order, then its
 * status messages (birth and last will) to its heartbeat rules.
 */
export function applyRules(
  draft: DeviceState,
  deviceId: string,
  readings: readonly Reading[],
  rules: readonly Rule[],
  context: Context = noModels,
  statuses: readonly StatusUpdate[] = [],
) {
  if (readings.length === 0 && statuses.length === 0) return
  const ordered = isSorted(readings) ? readings : [...readings].sort((a, b) => a.ts - b.ts)
  for (const rule of rulesFor(rules, deviceId)) {
    // No champion model for the type yet: the rule has nothing to score with.
    if (rule.kind === 'model-score' && !context.models.has(rule.deviceType)) continue
    const metric = 'metric' in rule ? rule.metric : undefined
    let state = draft.rules[rule.id]
    for (const reading of ordered) {
      if (state && reading.ts <= state.watermark) continue
      if (metric !== undefined && reading.metrics[metric] === undefined) continue
      state ??= draft.rules[rule.id] = emptyAlertState()
      observe(state, rule, deviceId, reading.ts, reading.metrics, context)
    }
    if (rule.kind === 'heartbeat') {
      for (const status of statuses) {
        state ??= draft.rules[rule.id] = emptyAlertState()
        hearStatus(state, rule, deviceId, status.state, status.ts ?? status.receivedAt)
      }
    }
  }
}

export function hasPendingTransitions(state: DeviceState): boolean {
  for (const id in state.rules) if ((state.rules[id] as AlertState).outbox.length > 0) return true
  return false
}

/** The transitions waiting in the outboxes, in device-time order across rules. */
export function pendingTransitions(state: DeviceState): AlertTransition[] {
  const out: AlertTransition[] = []
  for (const rule of Object.values(state.rules)) out.push(...rule.outbox)
  return out.sort((a, b) => a.at - b.at)
}

/** Names a transition across loads and saves: a reloaded state holds copies, not the same objects. */
export const transitionKey = (t: AlertTransition) => `${t.alert.id}\u0000${t.type}\u0000${t.at}`

/** The same state without the transitions `delivered` names. */
export function withoutDelivered(state: DeviceState, delivered: ReadonlySet<string>): DeviceState {
  const rules: Record<string, AlertState> = {}
  let left = false
  for (const [id, rule] of Object.entries(state.rules)) {
    const outbox = rule.outbox.filter((t) => !delivered.has(transitionKey(t)))
    left ||= outbox.length > 0
    rules[id] = outbox.length === rule.outbox.length ? rule : { ...rule, outbox }
  }
  return { ...state, rules, pendingSince: left ? state.pendingSince : undefined }
}

function isSorted(readings: readonly Reading[]): boolean {
  for (let i = 1; i < readings.length; i++)
    if ((readings[i] as Reading).ts < (readings[i - 1] as Reading).ts) return false
  return true
}
