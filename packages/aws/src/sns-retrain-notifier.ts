import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns'
import type { Notifier, RetrainNotification } from '@fleetpipe/retrain'
import { type RetryPolicy, withRetry } from './_transient.ts'

export interface SnsRetrainNotifierOptions {
  topicArn: string
  retry?: RetryPolicy
}

/**
 * A retraining run's outcome on SNS: a subject people read in an email, the whole notification as
 * JSON for machines, and `outcome`/`deviceType` attributes a subscription can filter on.
 */
export class SnsRetrainNotifier implements Notifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly options: SnsRetrainNotifierOptions,
  ) {}

  async notify(notification: RetrainNotification): Promise<void> {
    const command = new PublishCommand({
      TopicArn: this.options.topicArn,
      // SNS subjects are at most 100 ASCII characters.
      Subject: notification.subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
      Message: JSON.stringify(notification),
      MessageAttributes: {
        outcome: { DataType: 'String', StringValue: notification.outcome },
        ...(notification.deviceType
          ? { deviceType: { DataType: 'String', StringValue: notification.deviceType } }
          : {}),
      },
    })
    await withRetry(`SNS Publish ${notification.run}`, () => this.sns.send(command), this.options.retry)
  }
}
