import { type AlertTransition, TransientError } from '@fleetpipe/core'
import { PubSub } from '@google-cloud/pubsub'
import { describe, expect, it } from 'vitest'
import { type PublishTopic, PubSubAlertSink } from '../src/index.ts'
import { grpcError, NOW, noWait, overheatAndCool, RecordingTopic } from './_fixtures.ts'

function setup() {
  const topic = new RecordingTopic()
  return { topic, sink: new PubSubAlertSink(topic, { retry: noWait }) }
}

describe('PubSubAlertSink', () => {
  it('publishes one message per transition: the JSON transition and four filterable attributes', async () => {
    const { topic, sink } = setup()
    const [opened, cleared] = overheatAndCool('esp32-0001') as [AlertTransition, AlertTransition]
    const [other] = overheatAndCool('esp32-0002', NOW + 5_000) as [AlertTransition]

    await sink.publish([opened, cleared, other])

    expect(topic.calls).toHaveLength(3)
    const first = topic.calls.find(
      (m) => m.attributes.type === 'opened' && m.attributes.deviceId === 'esp32-0001',
    )
    expect(first).toEqual({
      data: expect.any(Buffer),
      attributes: { severity: 'critical', deviceId: 'esp32-0001', rule: 'over-temperature', type: 'opened' },
    })
    expect(JSON.parse(first?.data.toString('utf8') as string)).toEqual({
      type: 'opened',
      alert: opened.alert,
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
    const clearing = topic.calls.find((m) => m.attributes.type === 'cleared')
    expect(clearing?.attributes).toEqual({
      severity: 'critical',
      deviceId: 'esp32-0001',
      rule: 'over-temperature',
      type: 'cleared',
    })
    expect(JSON.parse(clearing?.data.toString('utf8') as string)).toEqual(JSON.parse(JSON.stringify(cleared)))
  })

  it("publishes one alert's transitions in order, whatever each publish takes", async () => {
    const { topic, sink } = setup()
    topic.delay = (m) => (m.attributes.type === 'opened' ? 10 : 0)

    await sink.publish(overheatAndCool('esp32-0001'))

    expect(topic.calls.map((m) => m.attributes.type)).toEqual(['opened', 'cleared'])
  })

  it.each([
    [4, 'DEADLINE_EXCEEDED'],
    [8, 'RESOURCE_EXHAUSTED'],
    [10, 'ABORTED'],
    [13, 'INTERNAL'],
    [14, 'UNAVAILABLE'],
  ])('retries gRPC %i %s', async (code, name) => {
    const { topic, sink } = setup()
    topic.failures = [grpcError(code, name)]

    await sink.publish(overheatAndCool().slice(0, 1))

    expect(topic.calls).toHaveLength(2)
    expect(topic.calls[1]).toEqual(topic.calls[0])
  })

  it.each([
    [3, 'INVALID_ARGUMENT'],
    [5, 'NOT_FOUND'],
    [7, 'PERMISSION_DENIED'],
    [16, 'UNAUTHENTICATED'],
  ])('throws gRPC %i %s at once, as it is', async (code, name) => {
    const { topic, sink } = setup()
    const denied = grpcError(code, name)
    topic.failures = [denied]

    await expect(sink.publish(overheatAndCool().slice(0, 1))).rejects.toBe(denied)
    expect(topic.calls).toHaveLength(1)
  })

  it('gives up after three attempts by default with a TransientError whose cause is the last failure', async () => {
    const { topic, sink } = setup()
    const last = grpcError(14, 'UNAVAILABLE')
    topic.failures = [grpcError(14, 'UNAVAILABLE'), grpcError(14, 'UNAVAILABLE'), last]
    const [opened] = overheatAndCool() as [AlertTransition]

    const error = await sink.publish([opened]).catch((e: unknown) => e)

    expect(topic.calls).toHaveLength(3)
    expect(error).toBeInstanceOf(TransientError)
    expect((error as TransientError).cause).toBe(last)
    expect((error as Error).message).toBe(
      `Pub/Sub publish of ${opened.alert.id} opened failed after 3 attempts: Error: 14 UNAVAILABLE: from the test`,
    )
  })

  it('takes a Topic from @google-cloud/pubsub as it is', () => {
    const topic: PublishTopic = new PubSub({ projectId: 'fleetpipe-dev' }).topic('fleetpipe-alerts')
    expect(new PubSubAlertSink(topic)).toBeInstanceOf(PubSubAlertSink)
    expect((topic as unknown as { name: string }).name).toBe('projects/fleetpipe-dev/topics/fleetpipe-alerts')
  })
})
