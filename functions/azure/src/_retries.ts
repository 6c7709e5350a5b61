/**
 * One batch through the core, with the messages whose records failed ingested again, under the
 * core's bounded retry, until they settle or the attempts run out. An Event Hub checkpoint moves
 * on whatever the function does, so retries happen here, inside the invocation.
 */
import { createHash } from 'node:crypto'
import {
  type AlertTransition,
  describeError,
  type InboundMessage,
  type IngestDeps,
  type IngestOptions,
  ingest,
  type Quarantine,
  type QuarantineEntry,
  type RecordResult,
  type RetryOptions,
  retry,
  TransientError,
} from '@fleetpipe/core'

export interface Settled {
  /** Each message's records from its last attempt, in message order; `message` indexes the batch. */
  records: RecordResult[]
  /** Delivered by any attempt. */
  transitions: AlertTransition[]
  /** Messages still failing after the last attempt, with why. */
  unsettled: Map<number, string>
  attempts: number
}

export async function ingestWithRetries(
  messages: readonly InboundMessage[],
  deps: IngestDeps,
  options: IngestOptions,
  policy: RetryOptions,
): Promise<Settled> {
  const byMessage: RecordResult[][] = messages.map(() => [])
  const transitions: AlertTransition[] = []
  const unsettled = new Map<number, string>()
  // A message comes back whole: the readings of a batched message the core refused the first
  // time would be refused again, and must not be quarantined twice.
  const attemptDeps = { ...deps, quarantine: new QuarantineOnce(deps.quarantine) }
  let pending = messages.map((_, i) => i)
  let attempts = 0

  const attempt = async () => {
    attempts++
    const batch = pending.map((i) => messages[i] as InboundMessage)
    try {
      const result = await ingest(batch, attemptDeps, options)
      for (const i of pending) byMessage[i] = []
      for (const record of result.records) {
        const original = pending[record.message] as number
        byMessage[original]?.push({ ...record, message: original })
      }
      transitions.push(...result.transitions)
    } catch (error) {
      // The core settles every record itself; should it throw all the same, nothing here settled.
      for (const i of pending)
        byMessage[i] = [{ message: i, kind: 'message', outcome: 'failed', detail: describeError(error) }]
    }
    unsettled.clear()
    for (const i of pending) {
      const failed = byMessage[i]?.find((r) => r.outcome === 'failed')
      if (failed) unsettled.set(i, failed.detail ?? 'failed')
    }
    pending = [...unsettled.keys()]
    if (pending.length > 0) {
      throw new TransientError(
        `${pending.length} message(s) still failing, e.g. ${unsettled.values().next().value}`,
      )
    }
  }

  try {
    await retry(attempt, { ...policy, retryable: (error) => error instanceof TransientError })
  } catch {
    // Out of attempts: `unsettled` names what is left, for the caller to dead-letter.
  }
  return { records: byMessage.flat(), transitions, unsettled, attempts }
}

/** Passes each distinct entry on once per invocation, so a message ingested again adds no copies. */
class QuarantineOnce implements Quarantine {
  private readonly seen = new Set<string>()

  constructor(private readonly quarantine: Quarantine) {}

  async put(entries: readonly QuarantineEntry[]): Promise<void> {
    const fresh = entries
      .map((entry) => ({ entry, key: keyOf(entry) }))
      .filter(({ key }) => !this.seen.has(key))
    if (fresh.length === 0) return
    await this.quarantine.put(fresh.map(({ entry }) => entry))
    for (const { key } of fresh) this.seen.add(key)
  }
}

function keyOf(entry: QuarantineEntry): string {
  return createHash('sha256').update(JSON.stringify(entry)).digest('base64')
}
