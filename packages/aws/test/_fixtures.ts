import type { Reading } from '@fleetpipe/core'
import { NOW } from '../../core/test/_fixtures.ts'

export { NOW, overheatAndCool } from '../../core/test/_fixtures.ts'

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
