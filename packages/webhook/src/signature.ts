/**
 * The `fleetpipe-signature` header, on Stripe's scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256>`
 * where the HMAC, keyed with the shared secret, covers `"<t>.<raw body>"`. Signing the timestamp
 * with the body lets a receiver refuse replays older than its tolerance; several `v1=` entries
 * are accepted so a secret can be rotated (sign with both, verify with either).
 * https://docs.stripe.com/webhooks#verify-manually
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'fleetpipe-signature'

/** Five minutes either way: Stripe's default, enough for clock skew and a slow retry. */
export const DEFAULT_TOLERANCE_SEC = 300

/** The header value for a body sent at `timestampSec`. */
export function sign(body: string | Uint8Array, secret: string, timestampSec: number): string {
  return `t=${timestampSec},v1=${hmac(timestampSec, body, secret).toString('hex')}`
}

/**
 * Whether `header` is a valid signature of the raw `body` made within `toleranceSec` of `now`
 * (epoch ms). Verify the bytes as received, before parsing: re-serialised JSON would not match.
 *
 * @example
 * if (!verifySignature(req.headers['fleetpipe-signature'], rawBody, process.env.SECRET)) return 400
 */
export function verifySignature(
  header: string | null | undefined,
  body: string | Uint8Array,
  secret: string,
  toleranceSec: number = DEFAULT_TOLERANCE_SEC,
  now: number = Date.now(),
): boolean {
  if (!header) return false
  let timestamp: number | undefined
  const candidates: Buffer[] = []
  for (const part of header.split(',')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const key = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    if (key === 't' && /^\d+$/.test(value)) timestamp = Number(value)
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) candidates.push(Buffer.from(value, 'hex'))
  }
  if (timestamp === undefined || candidates.length === 0) return false
  if (Math.abs(now / 1000 - timestamp) > toleranceSec) return false
  const expected = hmac(timestamp, body, secret)
  return candidates.some((candidate) => timingSafeEqual(candidate, expected))
}

function hmac(timestampSec: number, body: string | Uint8Array, secret: string): Buffer {
  return createHmac('sha256', secret).update(`${timestampSec}.`).update(body).digest()
}
