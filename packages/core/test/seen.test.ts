import { describe, expect, it } from 'vitest'
import { newWindow, see, WINDOW } from '../src/seen.ts'

const at = (seq: number, boot = 'a', ts = 1_000 + seq) => ({ boot, seq, ts })

describe('the dedupe window', () => {
  it('takes each seq once, in any order within the window', () => {
    const w = newWindow(at(10))
    const order = [12, 11, 15, 13, 14, 10, 12, 15, 11]
    expect(order.map((seq) => see(w, at(seq)))).toEqual([
      'new',
      'new',
      'new',
      'new',
      'new',
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
    ])
  })

  it('remembers exactly WINDOW seqs back, and asks the store about older ones', () => {
    const w = newWindow(at(0))
    for (let seq = 1; seq <= 1_000; seq++) expect(see(w, at(seq))).toBe('new')
    expect(see(w, at(1_000 - WINDOW + 1))).toBe('duplicate')
    expect(see(w, at(1_000 - WINDOW))).toBe('unknown')
  })

  it('keeps its memory across jumps of any size, word boundaries included', () => {
    for (const jump of [1, 31, 32, 33, 64, 100, WINDOW - 1, WINDOW, WINDOW + 1]) {
      const w = newWindow(at(5))
      see(w, at(6))
      expect(see(w, at(6 + jump))).toBe('new')
      const expected6 = jump < WINDOW ? 'duplicate' : 'unknown'
      expect(see(w, at(6)), `jump ${jump}`).toBe(expected6)
      if (jump + 1 < WINDOW) expect(see(w, at(5)), `jump ${jump}`).toBe('duplicate')
      if (jump > 1) expect(see(w, at(6 + jump - 1)), `jump ${jump}`).toBe('new')
    }
  })

  it('starts afresh on a new boot id, and asks the store about an earlier boot', () => {
    const w = newWindow(at(500, 'a'))
    expect(see(w, at(0, 'b', 2_000))).toBe('new')
    expect(see(w, at(1, 'b', 2_001))).toBe('new')
    expect(see(w, at(0, 'b', 2_000))).toBe('duplicate')
    expect(see(w, at(499, 'a', 1_499))).toBe('unknown')
  })

  it('tells a reboot without a boot id from a redelivery by the device time', () => {
    const w = newWindow(at(50, ''))
    // seq restarts, but the time moves on: a new boot.
    expect(see(w, { boot: '', seq: 0, ts: 5_000 })).toBe('new')
    expect(see(w, { boot: '', seq: 1, ts: 5_001 })).toBe('new')
    // A redelivery of the old seq 0 carries its old time.
    expect(see(w, { boot: '', seq: 0, ts: 5_000 })).toBe('duplicate')
  })

  it('serialises as plain JSON and works the same after a round trip', () => {
    const w = newWindow(at(0))
    for (let seq = 1; seq < 100; seq += 3) see(w, at(seq))
    const copy = JSON.parse(JSON.stringify(w))
    for (let seq = 0; seq < 110; seq++) expect(see(copy, at(seq))).toBe(see(w, at(seq)))
  })
})
