import { describe, expect, it } from 'vitest'
import { sign, verifySignature } from '../src/index.ts'

const body = '{"type":"opened"}'
const t = 1_795_435_200
const now = t * 1000

describe('signatures', () => {
  it('is the Stripe scheme: hex HMAC-SHA256 of "<t>.<body>" (checked with openssl dgst -sha256 -hmac)', () => {
    const expected = '6b7553f7b291c886f63c11d5bf174464988c5c5bdc43d9a3dcf561936efa5be0'
    expect(sign(body, 'secret', t)).toBe(`t=${t},v1=${expected}`)
    expect(verifySignature(`t=${t},v1=${expected}`, body, 'secret', 300, now)).toBe(true)
  })

  it('accepts any of several v1 entries, for secret rotation', () => {
    const old = sign(body, 'old-secret', t).split(',')[1]
    const current = sign(body, 'new-secret', t)
    expect(verifySignature(`${current},${old}`, body, 'old-secret', 300, now)).toBe(true)
    expect(verifySignature(`${current},${old}`, body, 'new-secret', 300, now)).toBe(true)
  })

  it('refuses headers that are missing, malformed or unsigned', () => {
    const good = sign(body, 'secret', t)
    for (const header of [
      undefined,
      null,
      '',
      'garbage',
      `t=${t}`,
      good.replace(/t=\d+,/, ''),
      good.replace(/t=\d+/, 't=soon'),
      good.replace(/v1=/, 'v0='),
      `${good.slice(0, -2)}zz`,
      `${good}00`,
    ]) {
      expect(verifySignature(header, body, 'secret', 300, now)).toBe(false)
    }
    expect(verifySignature(good, body, 'secret', 300, now)).toBe(true)
  })
})
