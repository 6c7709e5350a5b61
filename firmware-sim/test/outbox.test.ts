import { describe, expect, it } from 'vitest'
import { Outbox } from '../src/index.ts'

const packet = (bytes: number) => Buffer.alloc(bytes)

describe('Outbox', () => {
  it('holds entries in the order queued and gives back the one a PUBACK names', () => {
    const outbox = new Outbox<string>({ limitBytes: 1_000, expiryMs: 30_000 })
    for (const [id, tag] of [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ] as const)
      outbox.add(id, packet(10), 0, tag)
    expect(outbox.pending().map((e) => e.tag)).toEqual(['a', 'b', 'c'])
    expect(outbox.ack(2)?.tag).toBe('b')
    expect(outbox.ack(2)).toBeUndefined()
    expect(outbox.holds(1)).toBe(true)
    expect(outbox.holds(2)).toBe(false)
    expect(outbox.pending().map((e) => e.packetId)).toEqual([1, 3])
    expect(outbox.bytes).toBe(20)
  })

  it('refuses what would take it past its byte limit, and takes more once acknowledged', () => {
    const outbox = new Outbox({ limitBytes: 100, expiryMs: 30_000 })
    expect(outbox.add(1, packet(60), 0, undefined)).toBeDefined()
    expect(outbox.add(2, packet(41), 0, undefined)).toBeUndefined()
    expect(outbox.add(3, packet(40), 0, undefined)).toBeDefined()
    expect(outbox.size).toBe(2)
    outbox.ack(1)
    expect(outbox.add(4, packet(41), 0, undefined)).toBeDefined()
    expect(outbox.bytes).toBe(81)
  })

  it('expires entries older than its expiry, sent or not, oldest first', () => {
    const outbox = new Outbox<number>({ limitBytes: 1_000, expiryMs: 1_000 })
    outbox.add(1, packet(1), 0, 1)
    outbox.add(2, packet(1), 500, 2)
    const sent = outbox.add(3, packet(1), 900, 3)
    if (sent) sent.sentAt = 950
    expect(outbox.expire(999)).toEqual([])
    expect(outbox.expire(1_500).map((e) => e.tag)).toEqual([1, 2])
    expect(outbox.expire(1_900).map((e) => e.tag)).toEqual([3])
    expect(outbox.size).toBe(0)
    expect(outbox.bytes).toBe(0)
  })

  it('loses everything on clear, as a reboot loses RAM', () => {
    const outbox = new Outbox({ limitBytes: 1_000, expiryMs: 1_000 })
    outbox.add(1, packet(5), 0, undefined)
    outbox.add(2, packet(5), 0, undefined)
    expect(outbox.clear()).toHaveLength(2)
    expect(outbox.size).toBe(0)
    expect(() => new Outbox({ limitBytes: 0, expiryMs: 1 })).toThrow(RangeError)
  })
})
