/** Which Pub/Sub failures are worth another try, and the retry both adapters wrap their publishes in. */
import { defaultRetry, describeError, type RetryOptions, retry, TransientError } from '@fleetpipe/core'

/** Attempts, backoff and (for tests) `sleep`/`random`; which errors are retried is not the caller's to choose. */
export type RetryPolicy = Partial<Omit<RetryOptions, 'retryable'>>

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

/**
 * Runs `call` under core's retry (exponential backoff, full jitter), retrying transient failures
 * only. A transient failure that outlasts the attempts becomes a TransientError with the client's
 * error as its cause; any other error is thrown as it is, at once.
 */
export async function withRetry<T>(
  what: string,
  call: () => Promise<T>,
  policy: RetryPolicy = {},
): Promise<T> {
  const options: RetryOptions = { ...GCP_RETRY, ...policy, retryable: isTransient }
  try {
    return await retry(call, options)
  } catch (error) {
    if (error instanceof TransientError || !isTransient(error)) throw error
    throw new TransientError(`${what} failed after ${options.attempts} attempts: ${describeError(error)}`, {
      cause: error,
    })
  }
}
