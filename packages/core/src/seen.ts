/**
 * Dedupe by a sliding window per device, as IPsec and DTLS guard against replays: the highest
 * `seq` seen in the current boot, and a bitmap of which of the `WINDOW` seqs below it were seen.
 * O(1) state per device, kept in the StateStore with the device's rule state.
 *
 * A device that reboots restarts `seq`. With a boot id that is a new window; without one, a
 * reading whose seq is not above the highest but whose device time is later can only come from a
 * new boot (a redelivery repeats its original, earlier time), so it starts a new window too.
 */

export const WINDOW = 256
const WORDS = WINDOW / 32

export interface SeenWindow {
  boot: string
  high: number
  /** Device time of the reading with the highest seq. */
  highTs: number
  /** Bit i of the bitmap: seq `high - i` was seen. 32 bits per word. */
  bits: number[]
}

/** `unknown`: older than the window; only the store can tell. */
export type Verdict = 'new' | 'duplicate' | 'unknown'

/** Checks a reading against the window and records it; the window is changed in place. */
export function see(window: SeenWindow, reading: { boot: string; seq: number; ts: number }): Verdict {
  const { boot, seq, ts } = reading
  if (boot !== window.boot || (seq <= window.high && ts > window.highTs)) {
    // A later boot: a fresh window. A reading from an earlier boot cannot be placed: ask the store.
    if (boot !== window.boot && ts < window.highTs) return 'unknown'
    reset(window, boot, seq, ts)
    return 'new'
  }
  if (seq > window.high) {
    shift(window.bits, seq - window.high)
    window.bits[0] = ((window.bits[0] as number) | 1) >>> 0
    window.high = seq
    window.highTs = ts
    return 'new'
  }
  const age = window.high - seq
  if (age >= WINDOW) return 'unknown'
  const word = age >>> 5
  const bit = (1 << (age & 31)) >>> 0
  if (((window.bits[word] as number) & bit) !== 0) return 'duplicate'
  window.bits[word] = ((window.bits[word] as number) | bit) >>> 0
  return 'new'
}

export function newWindow(reading: { boot: string; seq: number; ts: number }): SeenWindow {
  const window: SeenWindow = { boot: '', high: 0, highTs: 0, bits: [] }
  reset(window, reading.boot, reading.seq, reading.ts)
  return window
}

function reset(window: SeenWindow, boot: string, seq: number, ts: number) {
  window.boot = boot
  window.high = seq
  window.highTs = ts
  window.bits = new Array<number>(WORDS).fill(0)
  window.bits[0] = 1
}

/** Moves every bit `by` places towards older seqs (bit i becomes bit i + by). */
function shift(bits: number[], by: number) {
  if (by >= WINDOW) {
    bits.fill(0)
    return
  }
  const words = by >>> 5
  const offset = by & 31
  for (let i = WORDS - 1; i >= 0; i--) {
    const from = i - words
    const low = from >= 0 ? (bits[from] as number) : 0
    const carry = offset > 0 && from - 1 >= 0 ? (bits[from - 1] as number) >>> (32 - offset) : 0
    bits[i] = ((low << offset) | carry) >>> 0
  }
}
