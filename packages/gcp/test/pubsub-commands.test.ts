import type { DeviceCommand } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { PubSubCommandPublisher } from '../src/index.ts'
import { grpcError, noWait, overheatAndCool, RecordingTopic } from './_fixtures.ts'

describe('PubSubCommandPublisher', () => {
  it('publishes each command as the JSON the device gets, with attributes the bridge routes by', async () => {
    const topic = new RecordingTopic()
    const fromAlert = overheatAndCool('esp32-0001')[0]?.command as DeviceCommand
    const interval: DeviceCommand = {
      id: 'esp32-0002:set-interval:1',
      deviceId: 'esp32-0002',
      command: 'set-interval',
      args: { seconds: 30, note: 'température' },
    }

    await new PubSubCommandPublisher(topic, { retry: noWait }).send([fromAlert, interval])

    expect(topic.calls).toHaveLength(2)
    for (const command of [fromAlert, interval]) {
      const message = topic.calls.find((m) => m.attributes.deviceId === command.deviceId)
      expect(message).toEqual({
        data: expect.any(Buffer),
        attributes: {
          mqttTopic: `fleet/${command.deviceId}/commands`,
          deviceId: command.deviceId,
          command: command.command,
        },
      })
      const text = new TextDecoder('utf-8', { fatal: true }).decode(message?.data)
      expect(text).toBe(JSON.stringify(command))
    }
    expect(fromAlert.command).toBe('safe-mode')
  })

  it("sends one device's commands in order", async () => {
    const topic = new RecordingTopic()
    topic.delay = (m) => (JSON.parse(m.data.toString()).id === 'c-1' ? 10 : 0)
    const commands = ['c-1', 'c-2'].map((id) => ({ id, deviceId: 'esp32-0003', command: 'reboot' }))

    await new PubSubCommandPublisher(topic, { retry: noWait }).send(commands)

    expect(topic.calls.map((m) => JSON.parse(m.data.toString()).id)).toEqual(['c-1', 'c-2'])
  })

  it('retries UNAVAILABLE, stops at PERMISSION_DENIED, and sends nothing for no commands', async () => {
    const topic = new RecordingTopic()
    const publisher = new PubSubCommandPublisher(topic, { retry: noWait })
    const reboot = { id: 'c-1', deviceId: 'esp32-0003', command: 'reboot' }

    await publisher.send([])
    expect(topic.calls).toHaveLength(0)

    topic.failures = [grpcError(14, 'UNAVAILABLE')]
    await publisher.send([reboot])
    expect(topic.calls).toHaveLength(2)

    const denied = grpcError(7, 'PERMISSION_DENIED')
    topic.failures = [denied]
    await expect(publisher.send([reboot])).rejects.toBe(denied)
    expect(topic.calls).toHaveLength(3)
  })
})
