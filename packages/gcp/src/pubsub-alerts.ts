import type { AlertSink, AlertTransition } from '@fleetpipe/core'
import { forEachInOrderBy } from '@fleetpipe/core'
import { type RetryPolicy, withRetry } from './_transient.ts'
import type { PublishMessage, PublishTopic } from './topic.ts'

export interface PubSubAlertOptions {
  /** Publishes in flight at once (one alert's transitions always go in order). */
  maxParallel?: number
  retry?: RetryPolicy
}

/**
 * Alert transitions to a Pub/Sub topic, one message each: the transition as JSON, and `severity`,
 * `deviceId`, `rule` and `type` as attributes for subscription filters
 * (`attributes.severity = "critical"`). https://cloud.google.com/pubsub/docs/subscription-message-filter
 *
 * No ordering key: one alert's transitions are published in order, but without message ordering
 * on the subscription Pub/Sub may deliver them out of order, and an ordering key would pause the
 * key after any failed publish until `resumePublishing`. Delivery is at least once; subscribers
 * tell repeats and order by alert id, `type` and `at`.
 *
 * @example
 * new PubSubAlertSink(new PubSub().topic('fleetpipe-alerts'))
 */
export class PubSubAlertSink implements AlertSink {
  constructor(
    private readonly topic: PublishTopic,
    private readonly options: PubSubAlertOptions = {},
  ) {}

  async publish(transitions: readonly AlertTransition[]): Promise<void> {
    await forEachInOrderBy(
      transitions,
      (t) => t.alert.id,
      this.options.maxParallel ?? 8,
      async (transition) => {
        const message = alertMessage(transition)
        await withRetry(
          `Pub/Sub publish of ${transition.alert.id} ${transition.type}`,
          () => this.topic.publishMessage(message),
          this.options.retry,
        )
      },
    )
  }
}

/** The message for one transition; exported so an emulation or a bridge can build the same. */
export function alertMessage(t: AlertTransition): PublishMessage {
  return {
    data: Buffer.from(JSON.stringify(t)),
    attributes: {
      severity: t.alert.severity,
      deviceId: t.alert.deviceId,
      rule: t.alert.ruleId,
      type: t.type,
    },
  }
}
