import { type CommandPublisher, type DeviceCommand, topics } from '@fleetpipe/core'
import type { MqttClient } from 'mqtt'

/** Commands to devices on `fleet/{deviceId}/commands`, QoS 1, as the device firmware subscribes. */
export class MqttCommandPublisher implements CommandPublisher {
  constructor(private readonly client: MqttClient) {}

  async send(commands: readonly DeviceCommand[]): Promise<void> {
    await Promise.all(
      commands.map((command) =>
        this.client.publishAsync(topics.commands(command.deviceId), JSON.stringify(command), { qos: 1 }),
      ),
    )
  }
}
