/** Which Pub/Sub failures are worth another try, and the retry both adapters wrap their publishes in. */
import {
  defaultRetry,
  type RetryOptions,
  type RetryPolicy,
  retryTransient,
  TransientError,
} from '@fleetpipe/core'

/**
 * gRPC status codes worth another try: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL,
 * UNAVAILABLE. https://grpc.github.io/grpc/core/md_doc_statuscodes.html
 */
export const TRANSIENT_GRPC_CODES: ReadonlySet<number> = new Set([4, 8, 10, 13, 14])

/**
 * The client library already retries a publish on these codes for up to 60 s (its gax `Publish`
 * settings); an error that reaches us has outlasted that, so a few attempts more are enough.
 */
const GCP_RETRY: RetryOptions = { ...defaultRetry, attempts: 3 }

export function isTransient(error: unknown): boolean {
  if (error instanceof TransientError) return true
  if (typeof error !== 'object' || error === null) return false
  const code = (error as { code?: unknown }).code
  return typeof code === 'number' && TRANSIENT_GRPC_CODES.has(code)
}

/** Runs `call` under the core's retry, retrying the failures `isTransient` names (see `retryTransient`). */
export function withRetry<T>(what: string, call: () => Promise<T>, policy: RetryPolicy = {}): Promise<T> {
  return retryTransient(what, call, isTransient, { ...GCP_RETRY, ...policy })
}

export type { RetryPolicy }
