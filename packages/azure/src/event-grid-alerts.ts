import type { SendCloudEventInput } from '@azure/eventgrid'
import type { AlertSink, AlertTransition } from '@fleetpipe/core'
import { chunk } from '@fleetpipe/core'
import { type RetryPolicy, withRetry } from './_transient.ts'

/** One alert transition as a CloudEvent: what the sink sends, and what subscribers receive. */
export type AlertCloudEvent = SendCloudEventInput<AlertTransition>

/**
 * The part of `EventGridPublisherClient<'CloudEvent'>` the sink uses, so tests can pass a
 * recording fake and the SDK client fits as it is.
 */
export interface CloudEventSender {
  send(events: AlertCloudEvent[]): Promise<void>
}

export interface EventGridAlertOptions {
  /** Names the deployment in each event's `source`, e.g. `prod`. */
  stage: string
  /** Events per request; Event Grid takes up to 1 MB per request, and a transition is about 1 KB. */
  maxBatch?: number
  retry?: RetryPolicy
}

/**
 * Alert transitions to an Event Grid topic (CloudEvents 1.0 input schema), one event each:
 * type `fleetpipe.alert.{opened|escalated|cleared}`, source `/fleetpipe/{stage}/devices/{deviceId}`,
 * subject `{deviceId}/{ruleId}`, time the device time of the transition, data the transition.
 * Subscriptions filter on the type, on the subject (`subjectEndsWith: '/over-temperature'`), or on
 * data (`data.alert.severity`).
 *
 * Delivery is at least once, and Event Grid does not keep order: an event's id is derived from
 * the transition (alert id, type, time), so a repeat carries the same id and receivers drop it;
 * they order one alert's events by `time`.
 * https://learn.microsoft.com/azure/event-grid/delivery-and-retry
 *
 * @example
 * const client = new EventGridPublisherClient(endpoint, 'CloudEvent', new AzureKeyCredential(key))
 * const alerts = new EventGridAlertSink(client, { stage: 'prod' })
 */
export class EventGridAlertSink implements AlertSink {
  constructor(
    private readonly client: CloudEventSender,
    private readonly options: EventGridAlertOptions,
  ) {}

  async publish(transitions: readonly AlertTransition[]): Promise<void> {
    const events = transitions.map((t) => alertEvent(t, this.options.stage))
    for (const batch of chunk(events, this.options.maxBatch ?? 100)) {
      await withRetry(
        `Event Grid send of ${batch.length} alert event(s)`,
        () => this.client.send(batch),
        this.options.retry,
      )
    }
  }
}

/** The CloudEvent for one transition; the same transition always gives the same event. */
export function alertEvent(transition: AlertTransition, stage: string): AlertCloudEvent {
  const { alert } = transition
  return {
    type: `fleetpipe.alert.${transition.type}`,
    // Device ids are [A-Za-z0-9._:-], all allowed in a URI path segment.
    source: `/fleetpipe/${stage}/devices/${alert.deviceId}`,
    subject: `${alert.deviceId}/${alert.ruleId}`,
    id: `${alert.id}:${transition.type}:${transition.at}`,
    time: new Date(transition.at),
    datacontenttype: 'application/json',
    data: transition,
  }
}
