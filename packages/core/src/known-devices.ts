/**
 * What a process remembers about each device it has seen, found with one lookup per device per
 * batch: the key of its state, and the rules watching it. A fleet's devices come back batch after
 * batch, and in a large fleet every separate table costs a lookup that misses the cache.
 * Bounded: when full, it starts over.
 */
import { planFor, type Watchers } from './rule-plan.ts'
import type { Rule } from './rules.ts'

export const DEVICE_STATE_PREFIX = 'device/'

export interface KnownDevice {
  readonly id: string
  /**
   * The StateStore key of the device's state: the same string each time, which a store's lookups
   * flatten and hash once, rather than a new concatenation per batch.
   */
  readonly key: string
  /** The rule set `watchers` answers for. */
  rules: readonly Rule[] | undefined
  watchers: Watchers | undefined
}

export function knownDevice(id: string): KnownDevice {
  let device = known.get(id)
  if (device === undefined) {
    if (known.size >= MAX_KNOWN_DEVICES) known.clear()
    device = { id, key: `${DEVICE_STATE_PREFIX}${id}`, rules: undefined, watchers: undefined }
    known.set(id, device)
  }
  return device
}

/** The StateStore key of a device's state. */
export function deviceStateKey(id: string): string {
  return knownDevice(id).key
}

/** The rules of `rules` that watch the device: worked out on first asking, then remembered. */
export function watchersOf(device: KnownDevice, rules: readonly Rule[]): Watchers {
  if (device.rules !== rules || device.watchers === undefined) {
    device.watchers = planFor(rules, device.id)
    device.rules = rules
  }
  return device.watchers
}

const MAX_KNOWN_DEVICES = 100_000
const known = new Map<string, KnownDevice>()
