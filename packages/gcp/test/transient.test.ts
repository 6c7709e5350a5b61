import { TransientError } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { isTransient, withRetry } from '../src/_transient.ts'
import { grpcError } from './_fixtures.ts'

describe('isTransient', () => {
  it('retries the gRPC codes a publish can recover from, and our own TransientError', () => {
    for (const code of [4, 8, 10, 13, 14]) expect(isTransient(grpcError(code, 'x'))).toBe(true)
    expect(isTransient(new TransientError('later'))).toBe(true)
  })

  it('does not retry other codes, string codes or non-errors', () => {
    for (const code of [0, 1, 2, 3, 5, 6, 7, 9, 11, 12, 15, 16])
      expect(isTransient(grpcError(code, 'x'))).toBe(false)
    expect(isTransient(Object.assign(new Error('socket'), { code: 'ECONNRESET' }))).toBe(false)
    expect(isTransient(14)).toBe(false)
    expect(isTransient(undefined)).toBe(false)
  })
})

describe('withRetry', () => {
  it('waits with full jitter, bounded by the policy, between attempts', async () => {
    const waits: number[] = []
    let calls = 0
    await withRetry(
      'Thing',
      async () => {
        if (++calls < 3) throw grpcError(14, 'UNAVAILABLE')
      },
      { baseMs: 100, maxMs: 150, random: () => 0.99, sleep: async (ms) => void waits.push(ms) },
    )
    expect(calls).toBe(3)
    expect(waits).toEqual([99, 148])
  })
})
