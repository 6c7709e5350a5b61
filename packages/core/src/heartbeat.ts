/**
 * Missing heartbeat needs time, not messages: a reading only ever says a device is alive. The sweep
 * (run on a timer by each cloud, and by `fleetpipe dev`) finds the devices silent for longer than a
 * heartbeat rule allows; a last will (`offline`) says so at once; a birth message (`online`) or any
 * reading clears it. Silence is wall-clock time since the newest device time heard, so a device whose
 * clock runs behind looks quiet sooner: keep `after` well above the fleet's clock error.
 */
import { type AlertState, memoryOf, settle } from './alerts.ts'
import { T, WATERMARK } from './detectors.ts'
import type { RuleOf } from './rules.ts'

type HeartbeatRule = RuleOf<'heartbeat'>

/** The sweep's check at `now`: opens the alert of a device heard from before and silent for `after`. */
export function checkSilence(draft: AlertState, rule: HeartbeatRule, deviceId: string, now: number): void {
  const heard = memoryOf(draft)[T] as number
  if (draft.open || heard <= 0) return
  const silent = now - heard
  if (silent < rule.after) return
  // The heartbeat detector says it: no telemetry for {silent} (expected within {after}).
  settle(draft, rule, deviceId, now, true, silent)
}

/** A birth message clears the alert; a last will opens it, when the rule says `offline`. */
export function hearStatus(
  draft: AlertState,
  rule: HeartbeatRule,
  deviceId: string,
  state: 'online' | 'offline',
  ts: number,
): void {
  const memory = memoryOf(draft)
  if (ts <= (memory[WATERMARK] as number)) return
  memory[WATERMARK] = ts
  if (state === 'online') {
    if (ts > (memory[T] as number)) memory[T] = ts
    if (draft.open) settle(draft, rule, deviceId, ts, false, 0, undefined, 'the device is back online')
  } else if (rule.offline && !draft.open) {
    settle(draft, rule, deviceId, ts, true, 0, undefined, 'the device went offline (last will)')
  }
}
