import type { AlertSink, AlertTransition } from '@fleetpipe/core'

/**
 * Delivers each batch of transitions to every sink in turn; a failing sink fails the delivery, so
 * ingest keeps the outbox and all sinks get it again (each is idempotent or at least once).
 */
export class FanOutAlertSink implements AlertSink {
  constructor(private readonly sinks: readonly AlertSink[]) {}

  async publish(transitions: readonly AlertTransition[]): Promise<void> {
    for (const sink of this.sinks) await sink.publish(transitions)
  }
}
