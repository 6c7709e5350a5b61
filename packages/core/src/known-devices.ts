/**
 * What a process remembers about each device it has seen: that its id is valid, its boot id, the
 * key of its state, and the rules watching it. A fleet's devices come back batch after batch, and
 * in a large fleet every separate table costs a lookup that misses the cache: decoding finds the
 * device here once, and ingest finds it again while it is still in the cache.
 * Bounded: when full, it starts over.
 */
import { planFor, type Watchers } from './rule-plan.ts'
import type { Rule } from './rules.ts'
import { DEVICE_ID_PATTERN } from './wire.ts'

export const DEVICE_STATE_PREFIX = 'device/'

export interface KnownDevice {
  readonly id: string
  /**
   * The StateStore key of the device's state: the same string each time, which a store's lookups
   * flatten and hash once, rather than a new concatenation per batch.
   */
  readonly key: string
  /** The boot id last found valid in the device's readings: the next one mostly repeats it. */
  boot: string | undefined
  /** The rule set `watchers` answers for. */
  rules: readonly Rule[] | undefined
  watchers: Watchers | undefined
}

/** The device of an id already found valid (by `validDevice` or the wire schema). */
export function knownDevice(id: string): KnownDevice {
  return known.get(id) ?? remember(id)
}

/** The device of an id, or undefined when the id is not a valid device id. */
export function validDevice(id: string): KnownDevice | undefined {
  const device = known.get(id)
  if (device !== undefined) return device
  return DEVICE_ID_PATTERN.test(id) ? remember(id) : undefined
}

/** Whether `boot` is a valid boot id for the device: checked once per boot, then remembered. */
export function validBoot(device: KnownDevice, boot: string): boolean {
  if (boot === device.boot) return true
  if (!DEVICE_ID_PATTERN.test(boot)) return false
  device.boot = boot
  return true
}

function remember(id: string): KnownDevice {
  if (known.size >= MAX_KNOWN_DEVICES) known.clear()
  const device = {
    id,
    key: `${DEVICE_STATE_PREFIX}${id}`,
    boot: undefined,
    rules: undefined,
    watchers: undefined,
  }
  known.set(id, device)
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
