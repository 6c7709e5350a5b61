import type { DeviceCommand } from '@fleetpipe/core'
import { TransientError } from '@fleetpipe/core'
import { Message } from 'azure-iothub/dist/common-core/message.js'
import { describe, expect, it } from 'vitest'
import { type CloudToDeviceSender, IotHubCommandPublisher } from '../src/index.ts'
import { iotHubError, noWait, overheatAndCool } from './_fixtures.ts'

interface Sent {
  deviceId: string
  message: Message
}

/** Records each `send`; `delay` lets a test hold a device's first send back, `failures` fail the first sends. */
class RecordingClient implements CloudToDeviceSender {
  readonly sent: Sent[] = []
  inFlight = 0
  maxInFlight = 0
  constructor(private readonly options: { delay?: (s: Sent) => number; failures?: unknown[] } = {}) {}

  async send(deviceId: string, message: Message): Promise<unknown> {
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    try {
      const wait = this.options.delay?.({ deviceId, message }) ?? 0
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      const failure = this.options.failures?.shift()
      if (failure) throw failure
      this.sent.push({ deviceId, message })
      return { transportObj: {} }
    } finally {
      this.inFlight--
    }
  }
}

const properties = (message: Message) =>
  Array.from({ length: message.properties.count() }, (_, i) => message.properties.getItem(i))

describe('IotHubCommandPublisher', () => {
  it('sends each command as a UTF-8 JSON cloud-to-device message named by the command id', async () => {
    const client = new RecordingClient()
    const fromAlert = overheatAndCool('esp32-0001')[0]?.command as DeviceCommand
    const interval: DeviceCommand = {
      id: 'esp32-0002:set-interval:1',
      deviceId: 'esp32-0002',
      command: 'set-interval',
      args: { seconds: 30, note: 'température' },
    }

    await new IotHubCommandPublisher(client, { retry: noWait }).send([fromAlert, interval])

    expect(client.sent.map((s) => s.deviceId)).toEqual(['esp32-0001', 'esp32-0002'])
    for (const [{ deviceId, message }, command] of [
      [client.sent[0], fromAlert],
      [client.sent[1], interval],
    ] as [Sent, DeviceCommand][]) {
      expect(deviceId).toBe(command.deviceId)
      expect(message).toBeInstanceOf(Message)
      expect(message.data).toBe(JSON.stringify(command))
      expect(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(message.getBytes()))).toEqual(
        JSON.parse(JSON.stringify(command)),
      )
      expect(message.messageId).toBe(command.id)
      expect(message.contentType).toBe('application/json')
      expect(message.contentEncoding).toBe('utf-8')
      expect(properties(message)).toEqual([{ key: 'topic', value: `fleet/${command.deviceId}/commands` }])
    }
    expect(fromAlert).toMatchObject({ command: 'safe-mode', id: expect.stringMatching(/:safe-mode$/) })
  })

  it("keeps one device's commands in order, and sends to several devices at once, bounded", async () => {
    const commands: DeviceCommand[] = ['a', 'b', 'c', 'd'].flatMap((device) =>
      [1, 2, 3].map((n) => ({ id: `${device}-${n}`, deviceId: `esp32-${device}`, command: 'reboot' })),
    )
    // Each device's first command is the slowest: order must not depend on it.
    const client = new RecordingClient({
      delay: ({ message }) => (message.messageId.endsWith('-1') ? 15 : 1),
    })

    await new IotHubCommandPublisher(client, { maxParallel: 2 }).send(commands)

    for (const device of ['a', 'b', 'c', 'd']) {
      expect(
        client.sent.filter((s) => s.deviceId === `esp32-${device}`).map((s) => s.message.messageId),
      ).toEqual([`${device}-1`, `${device}-2`, `${device}-3`])
    }
    expect(client.maxInFlight).toBe(2)
  })

  it('retries a throttled or unavailable hub and sends nothing for no commands', async () => {
    const client = new RecordingClient({
      failures: [iotHubError('ThrottlingError'), iotHubError('ServiceUnavailableError')],
    })
    const publisher = new IotHubCommandPublisher(client, { retry: noWait })

    await publisher.send([])
    expect(client.sent).toEqual([])
    await publisher.send([{ id: 'c-1', deviceId: 'esp32-0003', command: 'reboot' }])
    expect(client.sent.map((s) => s.message.messageId)).toEqual(['c-1'])
  })

  it('throws at once for a device IoT Hub does not know or whose queue is full', async () => {
    for (const name of ['DeviceNotFoundError', 'DeviceMaximumQueueDepthExceededError']) {
      const refusal = iotHubError(name)
      const client = new RecordingClient({ failures: [refusal] })
      await expect(
        new IotHubCommandPublisher(client, { retry: noWait }).send([
          { id: 'c-1', deviceId: 'esp32-0003', command: 'reboot' },
        ]),
      ).rejects.toBe(refusal)
      expect(client.sent).toEqual([])
    }
  })

  it('gives up on a hub that stays throttled with a TransientError', async () => {
    const client = new RecordingClient({
      failures: Array.from({ length: 3 }, () => iotHubError('ThrottlingError')),
    })
    const publisher = new IotHubCommandPublisher(client, { retry: { ...noWait, attempts: 3 } })

    await expect(publisher.send([{ id: 'c-1', deviceId: 'esp32-0003', command: 'reboot' }])).rejects.toThrow(
      TransientError,
    )
  })
})
