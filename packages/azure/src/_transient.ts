/** Which Azure SDK failures are worth another try, and the retry every adapter wraps its calls in. */
import { defaultRetry, describeError, type RetryOptions, retry, TransientError } from '@fleetpipe/core'

/** Attempts, backoff and (for tests) `sleep`/`random`; which errors are retried is not the caller's to choose. */
export type RetryPolicy = Partial<Omit<RetryOptions, 'retryable'>>

/**
 * azure-iothub's error classes (by `name`) that its own default filter retries.
 * https://github.com/Azure/azure-iot-sdk-node/blob/main/common/core/src/retry_error_filter.ts
 */
const TRANSIENT_NAMES = new Set([
  'ThrottlingError',
  'InternalServerError',
  'ServiceUnavailableError',
  'TimeoutError',
  'NotConnectedError',
])

/**
 * Network failures. `REQUEST_SEND_ERROR` is what `@azure/core-rest-pipeline` (under
 * `@azure/eventgrid`) reports when a request never got an answer.
 */
const TRANSIENT_CODES = new Set(['REQUEST_SEND_ERROR', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'])

/** 408, 429 and 5xx: the status codes Azure asks callers to retry. */
function transientStatus(status: unknown): boolean {
  return typeof status === 'number' && (status === 408 || status === 429 || status >= 500)
}

export function isTransient(error: unknown): boolean {
  if (error instanceof TransientError) return true
  if (typeof error !== 'object' || error === null) return false
  const e = error as { name?: unknown; code?: unknown; statusCode?: unknown }
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true
  return transientStatus(e.statusCode)
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
