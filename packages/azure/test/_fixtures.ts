import { type AlertTransition, advance, emptyAlertState } from '@fleetpipe/core'
import { overTemperature as overTemperatureRules } from '../../core/test/_fixtures.ts'

export const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)

/** Retries without waiting. */
export const noWait = { sleep: async () => {} }

const [overTemperature] = overTemperatureRules

/** Real transitions from the core's alert lifecycle: the device overheats (opened, with `safe-mode`), then cools (cleared). */
export function overheatAndCool(deviceId = 'esp32-0001', at = NOW): AlertTransition[] {
  if (!overTemperature) throw new Error('fixture rule missing')
  const state = emptyAlertState()
  advance(state, overTemperature, deviceId, at, 85.2)
  advance(state, overTemperature, deviceId, at + 60_000, 71.4)
  return state.outbox
}

/** An error shaped as `@azure/core-rest-pipeline`'s RestError for an HTTP answer. */
export function restError(statusCode: number, message = `HTTP ${statusCode}`) {
  return Object.assign(new Error(message), { name: 'RestError', statusCode })
}

/** An error shaped as one of azure-iothub's error classes (they set `name`). */
export function iotHubError(name: string, message = name) {
  return Object.assign(new Error(message), { name })
}
