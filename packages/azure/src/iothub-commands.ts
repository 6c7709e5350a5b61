import { type CommandPublisher, type DeviceCommand, forEachInOrderBy, topics } from '@fleetpipe/core'
// azure-iothub's entry point exports no `Message`; the service client's own class lives here.
import { Message } from 'azure-iothub/dist/common-core/message.js'
import { type RetryPolicy, withRetry } from './_transient.ts'

/** The part of azure-iothub's service `Client` the publisher uses; the SDK client fits as it is. */
export interface CloudToDeviceSender {
  send(deviceId: string, message: Message): Promise<unknown>
}

export interface IotHubCommandOptions {
  /** Sends in flight at once (one device's commands always go in order). */
  maxParallel?: number
  retry?: RetryPolicy
}

/**
 * Device commands as IoT Hub cloud-to-device messages: the command as UTF-8 JSON (as a device
 * gets it over MQTT on `fleet/{deviceId}/commands`), `messageId` the command's id, and an
 * application property `topic` = `fleet/{deviceId}/commands`, so firmware subscribed to
 * `devices/{id}/messages/devicebound/#` handles it like the MQTT command. A device ignores a
 * redelivered command by its `id`.
 *
 * IoT Hub queues at most 50 messages per device; beyond that `send` fails with
 * `DeviceMaximumQueueDepthExceededError`, which is not retried.
 * https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-messages-c2d
 *
 * @example
 * const commands = new IotHubCommandPublisher(Client.fromConnectionString(serviceConnection))
 */
export class IotHubCommandPublisher implements CommandPublisher {
  constructor(
    private readonly client: CloudToDeviceSender,
    private readonly options: IotHubCommandOptions = {},
  ) {}

  async send(commands: readonly DeviceCommand[]): Promise<void> {
    await forEachInOrderBy(
      commands,
      (c) => c.deviceId,
      this.options.maxParallel ?? 8,
      async (command) => {
        const message = commandMessage(command)
        await withRetry(
          `IoT Hub cloud-to-device send ${command.id}`,
          () => this.client.send(command.deviceId, message),
          this.options.retry,
        )
      },
    )
  }
}

/** The cloud-to-device message for one command. */
export function commandMessage(command: DeviceCommand): Message {
  const message = new Message(JSON.stringify(command))
  message.messageId = command.id
  message.contentType = 'application/json'
  message.contentEncoding = 'utf-8'
  message.properties.add('topic', topics.commands(command.deviceId))
  return message
}
