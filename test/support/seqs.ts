import { expect } from 'vitest'

/**
 * Each device's telemetry seqs as an observer got them: every seq from 0 once, in order, and
 * repeats only as retransmissions the devices marked DUP (at most `replayed` of them in all).
 */
export function expectEverySeqInOrder(seqsByDevice: readonly (readonly number[])[], replayed: number) {
  let repeats = 0
  for (const seqs of seqsByDevice) {
    const firsts = seqs.filter((seq, i) => seqs.indexOf(seq) === i)
    expect(firsts).toEqual(firsts.map((_, i) => i))
    repeats += seqs.length - firsts.length
  }
  expect(repeats).toBeLessThanOrEqual(replayed)
}
