import type { AlertTransition } from './alerts.ts'
import type { AlertSink } from './ports.ts'

/**
 * Delivers each batch of transitions to every sink in turn — the database's alert history, then
 * the channels that tell people. A failing sink fails the delivery, so ingest keeps the outbox and
 * every sink gets it again (each applies it idempotently, or at least once).
 */
export class FanOutAlertSink implements AlertSink {
  constructor(readonly sinks: readonly AlertSink[]) {}

  async publish(transitions: readonly AlertTransition[]): Promise<void> {
    for (const sink of this.sinks) await sink.publish(transitions)
  }
}
