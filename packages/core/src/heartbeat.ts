/**
 * Missing heartbeat needs time, not messages: a reading only ever says a device is alive. The sweep
 * (run on a timer by each cloud, and by `fleetpipe dev`) finds the devices silent for longer than a
 * heartbeat rule allows; a last will (`offline`) says so at once; a birth message (`online`) or any
 * reading clears it. Silence is wall-clock time since the newest device time heard, so a device whose
 * clock runs behind looks quiet sooner: keep `after` well above the fleet's clock error.
 */
import { isOpen, type RulesState, settleAt } from './alerts.ts'
import { noModels } from './detectors.ts'
import { planOf } from './rule-plan.ts'
import type { RuleOf } from './rules.ts'
import { T, WATERMARK } from './slots.ts'

type HeartbeatRule = RuleOf<'heartbeat'>

/**
 * The sweep's check at `now` of the rule whose numbers start `at`: opens the alert of a device heard
 * from before and silent for `after`.
 */
export function checkSilence(
  state: RulesState,
  at: number,
  rule: HeartbeatRule,
  deviceId: string,
  now: number,
): void {
  const heard = state.numbers[at + T] as number
  if (isOpen(state, at) || heard <= 0) return
  const silent = now - heard
  if (silent < rule.after) return
  // The heartbeat detector says it: no telemetry for {silent} (expected within {after}).
  settleAt(state, at, planOf(rule), deviceId, now, true, silent, noModels)
}

/** A birth message clears the alert; a last will opens it, when the rule says `offline`. */
export function hearStatus(
  state: RulesState,
  at: number,
  rule: HeartbeatRule,
  deviceId: string,
  status: 'online' | 'offline',
  ts: number,
): void {
  const numbers = state.numbers
  if (ts <= (numbers[at + WATERMARK] as number)) return
  numbers[at + WATERMARK] = ts
  const plan = planOf(rule)
  if (status === 'online') {
    if (ts > (numbers[at + T] as number)) numbers[at + T] = ts
    if (isOpen(state, at))
      settleAt(state, at, plan, deviceId, ts, false, 0, noModels, 'the device is back online')
  } else if (rule.offline && !isOpen(state, at)) {
    settleAt(state, at, plan, deviceId, ts, true, 0, noModels, 'the device went offline (last will)')
  }
}
