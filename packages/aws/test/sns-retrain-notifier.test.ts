import { PublishCommand, SNSClient } from '@aws-sdk/client-sns'
import type { RetrainNotification } from '@fleetpipe/retrain'
import { mockClient } from 'aws-sdk-client-mock'
import { describe, expect, it } from 'vitest'
import { SnsRetrainNotifier } from '../src/index.ts'
import { noWait } from './_fixtures.ts'

describe('SnsRetrainNotifier', () => {
  it('publishes the notification as JSON, with a subject and filterable attributes', async () => {
    const sns = new SNSClient({ region: 'eu-west-1' })
    const mock = mockClient(sns)
    mock.on(PublishCommand).resolves({ MessageId: 'm-1' })
    const topicArn = 'arn:aws:sns:eu-west-1:123456789012:fleetpipe-dev-retrain'
    const notification: RetrainNotification = {
      outcome: 'failed',
      subject: 'fleetpipe retraining failed: motor model — line 6',
      message: 'Retraining from datasets/motor/a.csv failed — DatasetError: line 6: ts: …',
      run: 'bucket/datasets/motor/a.csv:0065',
      deviceType: 'motor',
      error: { name: 'DatasetError', message: 'line 6: ts: …' },
    }

    await new SnsRetrainNotifier(sns, { topicArn, retry: noWait }).notify(notification)

    expect(mock.commandCalls(PublishCommand).map((c) => c.args[0].input)).toEqual([
      {
        TopicArn: topicArn,
        Subject: 'fleetpipe retraining failed: motor model ? line 6',
        Message: JSON.stringify(notification),
        MessageAttributes: {
          outcome: { DataType: 'String', StringValue: 'failed' },
          deviceType: { DataType: 'String', StringValue: 'motor' },
        },
      },
    ])
  })
})
