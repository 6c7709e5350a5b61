import { type AlertTransition, advance, emptyAlertState, type Reading } from '@fleetpipe/core'
import { overTemperature as overTemperatureRules } from '../../core/test/_fixtures.ts'

export const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)

/** Retries without waiting. */
export const noWait = { sleep: async () => {} }

/** `count` readings of one device (`fw: null`: none sent), one a second, seq counting up, with motor-node metrics. */
export function readingsOf(
  deviceId: string,
  count: number,
  { boot = 'a1b2c3d4', fw = '1.4.2' as string | null, metrics = 5, from = 0 } = {},
): Reading[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i
    const values: Record<string, number> = {
      temperature: 23.5 + (n % 10) / 10,
      vibration: 0.12,
      current: 4.2,
      voltage: 229.8,
      rpm: 1480 + n,
    }
    const reading: Reading = {
      deviceId,
      boot,
      seq: 42 + n,
      ts: NOW - 600_000 + n * 1_000,
      metrics: Object.fromEntries(Object.entries(values).slice(0, metrics)),
    }
    if (fw !== null) reading.fw = fw
    return reading
  })
}

/** Interleaves lists, as a batch from many devices arrives. */
export function interleave<T>(lists: T[][]): T[] {
  const out: T[] = []
  const longest = Math.max(...lists.map((l) => l.length))
  for (let i = 0; i < longest; i++) for (const list of lists) if (i < list.length) out.push(list[i] as T)
  return out
}

const [overTemperature] = overTemperatureRules

/** Real transitions from the core's alert lifecycle: the device overheats (opened, with `safe-mode`), then cools (cleared). */
export function overheatAndCool(deviceId = 'esp32-0001', at = NOW): AlertTransition[] {
  if (!overTemperature) throw new Error('fixture rule missing')
  const state = emptyAlertState()
  advance(state, overTemperature, deviceId, at, 85.2)
  advance(state, overTemperature, deviceId, at + 60_000, 71.4)
  return state.outbox
}
