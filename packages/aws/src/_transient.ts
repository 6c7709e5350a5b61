/** Which SDK failures are worth another try, and the retry every adapter wraps its calls in. */
import { defaultRetry, type RetryPolicy, retryTransient, TransientError } from '@fleetpipe/core'

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerException',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  // S3: another conditional write to the same key was in flight; the retry sees it done.
  'ConditionalRequestConflict',
])

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE'])

export function isTransient(error: unknown): boolean {
  if (error instanceof TransientError) return true
  if (typeof error !== 'object' || error === null) return false
  const e = error as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } }
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true
  const status = e.$metadata?.httpStatusCode
  return typeof status === 'number' && status >= 500
}

/** Runs `call` under the core's retry, retrying the failures `isTransient` names (see `retryTransient`). */
export function withRetry<T>(what: string, call: () => Promise<T>, policy: RetryPolicy = {}): Promise<T> {
  return retryTransient(what, call, isTransient, { ...defaultRetry, ...policy })
}

/** The SDK error's name, for the few a caller handles itself (conflicts, rejections, duplicates). */
export function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const name = (error as { name?: unknown }).name
  return typeof name === 'string' ? name : undefined
}

export type { RetryPolicy }
