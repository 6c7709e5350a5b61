/** Which SDK failures are worth another try, and the retry every adapter wraps its calls in. */
import { defaultRetry, describeError, type RetryOptions, retry, TransientError } from '@fleetpipe/core'

/** Attempts, backoff and (for tests) `sleep`/`random`; which errors are retried is not the caller's to choose. */
export type RetryPolicy = Partial<Omit<RetryOptions, 'retryable'>>

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

/**
 * Runs `call` under core's retry (exponential backoff, full jitter), retrying transient failures
 * only. A transient failure that outlasts the attempts becomes a TransientError with the SDK's
 * error as its cause; any other error is thrown as it is, at once.
 */
export async function withRetry<T>(
  what: string,
  call: () => Promise<T>,
  policy: RetryPolicy = {},
): Promise<T> {
  const options: RetryOptions = { ...defaultRetry, ...policy, retryable: isTransient }
  try {
    return await retry(call, options)
  } catch (error) {
    if (error instanceof TransientError || !isTransient(error)) throw error
    throw new TransientError(`${what} failed after ${options.attempts} attempts: ${describeError(error)}`, {
      cause: error,
    })
  }
}

/** The SDK error's name, for the few a caller handles itself (conflicts, rejections, duplicates). */
export function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const name = (error as { name?: unknown }).name
  return typeof name === 'string' ? name : undefined
}
