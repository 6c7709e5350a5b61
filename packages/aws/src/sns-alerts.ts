import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns'
import type { AlertSink, AlertTransition } from '@fleetpipe/core'
import { forEachInOrderBy } from '@fleetpipe/core'
import { type RetryPolicy, withRetry } from './_transient.ts'

export interface SnsAlertOptions {
  /** A standard topic; FIFO topics are not supported. */
  topicArn: string
  /** Publishes in flight at once (one alert's transitions always go in order). */
  maxParallel?: number
  retry?: RetryPolicy
}

/**
 * SNS subjects must be under 100 characters, with no line breaks.
 * https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 */
const MAX_SUBJECT = 99

/**
 * Alert transitions to an SNS topic, one message each: the transition as JSON, a subject for email
 * subscribers, and `severity`, `deviceId`, `rule` and `type` as message attributes for subscription
 * filter policies. Delivery is at least once; subscribers can tell repeats by alert id, type and `at`.
 */
export class SnsAlertSink implements AlertSink {
  constructor(
    private readonly sns: SNSClient,
    private readonly options: SnsAlertOptions,
  ) {}

  async publish(transitions: readonly AlertTransition[]): Promise<void> {
    // Opened, then cleared: subscribers see one alert's transitions in the order they happened.
    await forEachInOrderBy(
      transitions,
      (t) => t.alert.id,
      this.options.maxParallel ?? 8,
      async (transition) => {
        const command = new PublishCommand(this.message(transition))
        await withRetry(
          `SNS Publish for ${transition.alert.id}`,
          () => this.sns.send(command),
          this.options.retry,
        )
      },
    )
  }

  private message(t: AlertTransition) {
    const { alert } = t
    return {
      TopicArn: this.options.topicArn,
      Subject: _subject(t),
      Message: JSON.stringify({
        alert,
        type: t.type,
        at: t.at,
        value: t.value,
        message: t.message,
        ...(t.command ? { command: t.command } : {}),
      }),
      MessageAttributes: {
        severity: _attribute(alert.severity),
        deviceId: _attribute(alert.deviceId),
        rule: _attribute(alert.ruleId),
        type: _attribute(t.type),
      },
    }
  }
}

function _subject(t: AlertTransition): string {
  const subject = `[${t.alert.severity}] ${t.alert.deviceId} ${t.alert.ruleId} ${t.type}`
  return subject.length <= MAX_SUBJECT ? subject : `${subject.slice(0, MAX_SUBJECT - 3)}...`
}

function _attribute(value: string) {
  return { DataType: 'String', StringValue: value }
}
