import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane'
import type { DeviceCommand } from '@fleetpipe/core'
import { mockClient } from 'aws-sdk-client-mock'
import { describe, expect, it } from 'vitest'
import { IotCommandPublisher } from '../src/index.ts'
import { noWait, overheatAndCool } from './_fixtures.ts'

describe('IotCommandPublisher', () => {
  it("publishes each command as UTF-8 JSON at QoS 1 on the device's commands topic", async () => {
    const iot = new IoTDataPlaneClient({ region: 'eu-west-1' })
    const mock = mockClient(iot)
    mock.on(PublishCommand).resolves({})
    const fromAlert = overheatAndCool('esp32-0001')[0]?.command as DeviceCommand
    const interval: DeviceCommand = {
      id: 'esp32-0002:set-interval:1',
      deviceId: 'esp32-0002',
      command: 'set-interval',
      args: { seconds: 30, note: 'température' },
    }

    await new IotCommandPublisher(iot, { retry: noWait }).send([fromAlert, interval])

    const inputs = mock.commandCalls(PublishCommand).map((c) => c.args[0].input)
    expect(inputs).toHaveLength(2)
    for (const [input, command] of [
      [inputs.find((i) => i.topic === 'fleet/esp32-0001/commands'), fromAlert],
      [inputs.find((i) => i.topic === 'fleet/esp32-0002/commands'), interval],
    ] as const) {
      expect(input).toEqual({
        topic: `fleet/${command.deviceId}/commands`,
        qos: 1,
        payload: expect.any(Uint8Array),
        contentType: 'application/json',
      })
      expect(
        JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(input?.payload as Uint8Array)),
      ).toEqual(JSON.parse(JSON.stringify(command)))
    }
    expect(fromAlert.command).toBe('safe-mode')
  })

  it('retries a 5xx and sends nothing for no commands', async () => {
    const iot = new IoTDataPlaneClient({ region: 'eu-west-1' })
    const mock = mockClient(iot)
    const publisher = new IotCommandPublisher(iot, { retry: noWait })
    mock
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error('Service Unavailable'), { $metadata: { httpStatusCode: 503 } }))
      .resolves({})

    await publisher.send([])
    expect(mock.commandCalls(PublishCommand)).toHaveLength(0)
    await publisher.send([{ id: 'c-1', deviceId: 'esp32-0003', command: 'reboot' }])
    expect(mock.commandCalls(PublishCommand)).toHaveLength(2)
  })
})
