/** Which Azure SDK failures are worth another try, and the retry every adapter wraps its calls in. */
import { defaultRetry, type RetryPolicy, retryTransient, TransientError } from '@fleetpipe/core'

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

/** Runs `call` under the core's retry, retrying the failures `isTransient` names (see `retryTransient`). */
export function withRetry<T>(what: string, call: () => Promise<T>, policy: RetryPolicy = {}): Promise<T> {
  return retryTransient(what, call, isTransient, { ...defaultRetry, ...policy })
}

export type { RetryPolicy }
