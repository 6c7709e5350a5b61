import { PublishCommand, SNSClient, ThrottledException } from '@aws-sdk/client-sns'
import type { AlertTransition } from '@fleetpipe/core'
import { mockClient } from 'aws-sdk-client-mock'
import { describe, expect, it } from 'vitest'
import { SnsAlertSink } from '../src/index.ts'
import { NOW, noWait, overheatAndCool } from './_fixtures.ts'

const topicArn = 'arn:aws:sns:eu-west-1:123456789012:fleetpipe-alerts'

function setup() {
  const sns = new SNSClient({ region: 'eu-west-1' })
  const mock = mockClient(sns)
  const sink = new SnsAlertSink(sns, { topicArn, retry: noWait })
  const inputs = () => mock.commandCalls(PublishCommand).map((c) => c.args[0].input)
  return { mock, sink, inputs }
}

describe('SnsAlertSink', () => {
  it('publishes one message per transition: JSON body, subject and four filterable attributes', async () => {
    const { mock, sink, inputs } = setup()
    mock.on(PublishCommand).resolves({ MessageId: 'm-1' })
    const [opened, cleared] = overheatAndCool('esp32-0001') as [AlertTransition, AlertTransition]
    const [other] = overheatAndCool('esp32-0002', NOW + 5_000) as [AlertTransition]

    await sink.publish([opened, cleared, other])

    const published = inputs()
    expect(published).toHaveLength(3)
    const first = published.find((p) => p.Subject?.endsWith('opened') && p.Subject.includes('esp32-0001'))
    expect(first).toEqual({
      TopicArn: topicArn,
      Subject: '[critical] esp32-0001 over-temperature opened',
      Message: expect.any(String),
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'critical' },
        deviceId: { DataType: 'String', StringValue: 'esp32-0001' },
        rule: { DataType: 'String', StringValue: 'over-temperature' },
        type: { DataType: 'String', StringValue: 'opened' },
      },
    })
    expect(JSON.parse(first?.Message as string)).toEqual({
      alert: opened.alert,
      type: 'opened',
      at: opened.at,
      value: 85.2,
      message: opened.message,
      command: {
        id: `${opened.alert.id}:safe-mode`,
        deviceId: 'esp32-0001',
        command: 'safe-mode',
        reason: opened.command?.reason,
      },
    })
    const clearedMessage = published.find((p) => p.MessageAttributes?.type?.StringValue === 'cleared')
    expect(clearedMessage?.Subject).toBe('[critical] esp32-0001 over-temperature cleared')
    expect(JSON.parse(clearedMessage?.Message as string)).toEqual({
      alert: cleared.alert,
      type: 'cleared',
      at: cleared.at,
      value: 71.4,
      message: cleared.message,
    })
  })

  it("publishes one alert's transitions in order", async () => {
    const { mock, sink, inputs } = setup()
    mock.on(PublishCommand).callsFake(async (input) => {
      // The opening takes longer than the clearing: order must not depend on it.
      if (input.MessageAttributes?.type?.StringValue === 'opened') await new Promise((r) => setTimeout(r, 10))
      return {}
    })

    await sink.publish(overheatAndCool('esp32-0001'))

    expect(inputs().map((p) => p.MessageAttributes?.type?.StringValue)).toEqual(['opened', 'cleared'])
  })

  it('keeps subjects under 100 characters', async () => {
    const { mock, sink, inputs } = setup()
    mock.on(PublishCommand).resolves({})
    const [opened] = overheatAndCool('x'.repeat(64)) as [AlertTransition]
    const long = { ...opened, alert: { ...opened.alert, ruleId: 'r'.repeat(64) } }

    await sink.publish([long])

    const subject = inputs()[0]?.Subject as string
    expect(subject.length).toBeLessThan(100)
    expect(subject.startsWith(`[critical] ${'x'.repeat(64)} r`)).toBe(true)
  })

  it('retries a throttled publish', async () => {
    const { mock, sink } = setup()
    mock
      .on(PublishCommand)
      .rejectsOnce(new ThrottledException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }))
      .resolves({})

    await sink.publish(overheatAndCool().slice(0, 1))

    expect(mock.commandCalls(PublishCommand)).toHaveLength(2)
  })
})
