/** Retrying transient failures: bounded attempts, exponential backoff with full jitter. */
import { describeError, TransientError } from './errors.ts'

export interface RetryOptions {
  attempts: number
  baseMs: number
  maxMs: number
  /** Which errors are worth another try; all are, unless told otherwise. */
  retryable?: (error: unknown) => boolean
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

export const defaultRetry: RetryOptions = { attempts: 5, baseMs: 100, maxMs: 5_000 }

/** Full jitter (a random wait up to the exponential cap) spreads retries from many callers apart. */
export function backoffDelay(attempt: number, { baseMs, maxMs, random = Math.random }: RetryOptions): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** attempt))
}

export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = defaultRetry,
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      const last = attempt + 1 >= options.attempts
      if (last || (options.retryable && !options.retryable(error))) throw error
      await sleep(backoffDelay(attempt, options))
    }
  }
}

/** What a caller may tune: attempts, backoff and (for tests) `sleep`/`random`; which errors are retried is the adapter's to say. */
export type RetryPolicy = Partial<Omit<RetryOptions, 'retryable'>>

/**
 * Runs `call` under `retry`, retrying only what `isTransient` says is worth it. A transient failure
 * that outlasts the attempts becomes a TransientError naming `what`, with the original as its
 * cause; any other error is thrown as it is, at once.
 */
export async function retryTransient<T>(
  what: string,
  call: () => Promise<T>,
  isTransient: (error: unknown) => boolean,
  options: RetryOptions = defaultRetry,
): Promise<T> {
  const policy: RetryOptions = { ...options, retryable: isTransient }
  try {
    return await retry(call, policy)
  } catch (error) {
    if (error instanceof TransientError || !isTransient(error)) throw error
    throw new TransientError(`${what} failed after ${policy.attempts} attempts: ${describeError(error)}`, {
      cause: error,
    })
  }
}
