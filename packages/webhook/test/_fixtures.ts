import { type AlertTransition, advance, emptyAlertState } from '@fleetpipe/core'
import { NOW, overTemperature } from '../../core/test/_fixtures.ts'

/** Real transitions from the core's alert lifecycle: the device overheats (opened, with `safe-mode`), then cools (cleared). */
export function overheatAndCool(deviceId = 'esp32-0001', at = NOW): AlertTransition[] {
  const [rule] = overTemperature
  if (!rule) throw new Error('fixture rule missing')
  const state = emptyAlertState()
  advance(state, rule, deviceId, at, 85.2)
  advance(state, rule, deviceId, at + 60_000, 71.4)
  return state.outbox
}
