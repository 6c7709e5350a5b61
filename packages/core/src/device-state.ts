/**
 * Everything ingest remembers about a device, in one StateStore entry: the dedupe window and the
 * state of each rule watching it. O(1) in the device's readings, loaded once per batch, changed on a
 * draft, and saved with a version check.
 */
import { type AlertState, type AlertTransition, advance, emptyAlertState } from './alerts.ts'
import { type Rule, selects } from './rules.ts'
import { copyWindow, newWindow, type SeenWindow, see, type Verdict } from './seen.ts'
import type { Reading } from './wire.ts'

export interface DeviceState {
  seen?: SeenWindow
  /** By rule id. */
  rules: Record<string, AlertState>
}

export const deviceStateKey = (deviceId: string) => `device/${deviceId}`

/** A private copy to change: the saved state stays as loaded. */
export function draftOf(saved: DeviceState | undefined): DeviceState {
  // The same fields in the same order as a copy: the hot path sees one shape.
  if (!saved) return { seen: undefined, rules: {} }
  return { seen: saved.seen && copyWindow(saved.seen), rules: { ...saved.rules } }
}

/** Dedupe verdict for a reading, recorded in the draft's window. */
export function seeReading(draft: DeviceState, reading: Reading): Verdict {
  if (!draft.seen) {
    draft.seen = newWindow(reading)
    return 'new'
  }
  return see(draft.seen, reading)
}

/** Applies the device's stored readings to each rule watching it, in device-time order. */
export function applyRules(
  draft: DeviceState,
  deviceId: string,
  readings: readonly Reading[],
  rules: readonly Rule[],
) {
  if (readings.length === 0) return
  const ordered = isSorted(readings) ? readings : [...readings].sort((a, b) => a.ts - b.ts)
  for (const rule of rules) {
    if (!selects(rule, deviceId)) continue
    const saved = draft.rules[rule.id]
    let state: AlertState | undefined
    for (const reading of ordered) {
      const value = reading.metrics[rule.metric]
      const current = state ?? saved
      if (value === undefined || (current && reading.ts <= current.watermark)) continue
      // Copied once, on the first reading that moves it.
      state ??= saved
        ? { watermark: saved.watermark, open: saved.open, since: saved.since, outbox: saved.outbox }
        : emptyAlertState()
      advance(state, rule, deviceId, reading.ts, value)
    }
    if (state) draft.rules[rule.id] = state
  }
}

export function hasPendingTransitions(state: DeviceState): boolean {
  for (const id in state.rules) if ((state.rules[id] as AlertState).outbox.length > 0) return true
  return false
}

export function pendingTransitions(state: DeviceState): AlertTransition[] {
  const out: AlertTransition[] = []
  for (const rule of Object.values(state.rules)) out.push(...rule.outbox)
  return out
}

/** The same state with every outbox emptied, once its transitions are delivered. */
export function delivered(state: DeviceState): DeviceState {
  const rules: Record<string, AlertState> = {}
  for (const [id, rule] of Object.entries(state.rules))
    rules[id] = rule.outbox.length ? { ...rule, outbox: [] } : rule
  return { ...state, rules }
}

function isSorted(readings: readonly Reading[]): boolean {
  for (let i = 1; i < readings.length; i++)
    if ((readings[i] as Reading).ts < (readings[i - 1] as Reading).ts) return false
  return true
}
