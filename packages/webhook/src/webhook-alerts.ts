import {
  type AlertSink,
  type AlertTransition,
  defaultRetry,
  describeError,
  type RetryOptions,
  retry,
  TransientError,
} from '@fleetpipe/core'
import { WebhookRejectedError } from './errors.ts'
import { SIGNATURE_HEADER, sign } from './signature.ts'

export interface WebhookAlertOptions {
  /** Where each transition is POSTed. */
  url: string
  /** The shared HMAC key; the receiver verifies with `verifySignature`. */
  secret: string
  fetch?: typeof fetch
  /** Attempts, backoff and (for tests) `sleep`/`random`; which failures are retried is fixed. */
  retry?: Partial<Omit<RetryOptions, 'retryable'>>
  /** Per attempt; a receiver that hangs is a transient failure. */
  timeoutMs?: number
  /** Epoch ms, for the signature's timestamp. */
  now?: () => number
}

/** The alert's id: the same for its opening, escalation and clearing. */
export const ALERT_ID_HEADER = 'fleetpipe-alert-id'
/** One transition's id, `<alert id>:<type>:<at>`: the receiver's idempotency key for a redelivery. */
export const EVENT_ID_HEADER = 'fleetpipe-event-id'

const RETRYABLE_STATUS = new Set([408, 429])

/**
 * Alert transitions POSTed to an HTTPS endpoint, one request each, signed with HMAC-SHA256 (see
 * `verifySignature`). The body is the transition as JSON. A 2xx is delivered; a 5xx, 408, 429, a
 * timeout or a network failure is retried with backoff and then thrown as a TransientError (ingest
 * keeps the transition in its outbox and delivers it on the next attempt); any other answer
 * throws a WebhookRejectedError at once. Redirects are not followed. Delivery is at least once:
 * receivers dedupe on `fleetpipe-event-id`.
 *
 * @example
 * new WebhookAlertSink({ url: 'https://ops.example.com/fleetpipe', secret: process.env.WEBHOOK_SECRET })
 */
export class WebhookAlertSink implements AlertSink {
  private readonly url: URL
  private readonly fetch: typeof fetch
  private readonly retry: RetryOptions

  constructor(private readonly options: WebhookAlertOptions) {
    this.url = new URL(options.url)
    if (!options.secret) throw new TypeError('WebhookAlertSink needs a secret to sign with')
    this.fetch = options.fetch ?? globalThis.fetch
    this.retry = { ...defaultRetry, ...options.retry, retryable: (e) => e instanceof TransientError }
  }

  async publish(transitions: readonly AlertTransition[]): Promise<void> {
    // In order, one at a time: a receiver sees an alert open before it clears.
    for (const transition of transitions) await this.deliver(transition)
  }

  private async deliver(transition: AlertTransition): Promise<void> {
    const body = JSON.stringify(transition)
    const what = `webhook delivery of ${eventId(transition)}`
    try {
      await retry(() => this.attempt(transition, body), this.retry)
    } catch (error) {
      if (!(error instanceof TransientError)) throw error
      throw new TransientError(`${what} failed after ${this.retry.attempts} attempts: ${error.message}`, {
        cause: error.cause ?? error,
      })
    }
  }

  private async attempt(transition: AlertTransition, body: string): Promise<void> {
    const now = this.options.now?.() ?? Date.now()
    let response: Response
    try {
      response = await this.fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'fleetpipe-webhook/1',
          [SIGNATURE_HEADER]: sign(body, this.options.secret, Math.floor(now / 1000)),
          [ALERT_ID_HEADER]: transition.alert.id,
          [EVENT_ID_HEADER]: eventId(transition),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      })
    } catch (error) {
      throw new TransientError(describeError(error), { cause: error })
    }
    if (response.ok) {
      await response.body?.cancel()
      return
    }
    const detail = await excerpt(response)
    const message = `${this.url.origin}${this.url.pathname} answered ${response.status}${detail}`
    if (response.status >= 500 || RETRYABLE_STATUS.has(response.status)) throw new TransientError(message)
    throw new WebhookRejectedError(response.status, message)
  }
}

function eventId(t: AlertTransition): string {
  return `${t.alert.id}:${t.type}:${t.at}`
}

/** The start of an error body, for the message: receivers often say what they disliked. */
async function excerpt(response: Response): Promise<string> {
  try {
    const text = (await response.text()).trim()
    return text ? `: ${text.slice(0, 200)}` : ''
  } catch {
    return ''
  }
}
