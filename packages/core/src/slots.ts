/**
 * Where a rule keeps its numbers for a device. All the rules watching a device keep theirs side by
 * side in one array of numbers (`RulesState.numbers`), SLOTS apiece, in the order of the rules'
 * ids: a reading is applied to every rule of its device, so their numbers are read together, from
 * one place, unboxed, and changed in place. Each detector names its own use of the memory slots.
 *
 *   WATERMARK   device time of the newest reading the rule applied (-1: none yet)
 *   N X T M V   the detector's memory: a count, the last value (or a reference), a device time,
 *               a running mean and variance — unused ones stay 0
 *   SINCE       since when the condition has held while the alert waits to open (-1: it does not)
 *   QUIET       since when the condition has been gone while the open alert waits to clear (-1)
 *   CLEARED_AT  when the rule's last alert cleared, for `cooldown` (-1: never)
 *   OPENED_AT   when the open alert opened (-1: none open); the alert itself is in `alerts`
 *
 * Device times are never negative, so -1 stands for "not set".
 */
export const WATERMARK = 0
export const N = 1
export const X = 2
export const T = 3
export const M = 4
export const V = 5
export const SINCE = 6
export const QUIET = 7
export const CLEARED_AT = 8
export const OPENED_AT = 9
export const SLOTS = 10

export const UNSET = -1

/** Appends one rule's numbers at rest. */
export function pushRestingSlots(numbers: number[]): void {
  numbers.push(UNSET, 0, 0, 0, 0, 0, UNSET, UNSET, UNSET, UNSET)
}
