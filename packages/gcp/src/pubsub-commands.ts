import { type CommandPublisher, type DeviceCommand, forEachInOrderBy, topics } from '@fleetpipe/core'
import { type RetryPolicy, withRetry } from './_transient.ts'
import type { PublishMessage, PublishTopic } from './topic.ts'

export interface PubSubCommandOptions {
  /** Publishes in flight at once (one device's commands always go in order). */
  maxParallel?: number
  retry?: RetryPolicy
}

/**
 * Device commands to a Pub/Sub topic that the MQTT bridge forwards to devices (GCP has no IoT Core
 * since 2023-08-16). The data is the command's JSON exactly as the device gets it on
 * `fleet/{deviceId}/commands`; the attributes `mqttTopic`, `deviceId` and `command` let the bridge
 * route it without parsing the data. A device ignores a redelivered command by its `id`.
 *
 * @example
 * new PubSubCommandPublisher(new PubSub().topic('fleetpipe-commands'))
 */
export class PubSubCommandPublisher implements CommandPublisher {
  constructor(
    private readonly topic: PublishTopic,
    private readonly options: PubSubCommandOptions = {},
  ) {}

  async send(commands: readonly DeviceCommand[]): Promise<void> {
    await forEachInOrderBy(
      commands,
      (c) => c.deviceId,
      this.options.maxParallel ?? 8,
      async (command) => {
        const message = commandMessage(command)
        await withRetry(
          `Pub/Sub publish of command ${command.id}`,
          () => this.topic.publishMessage(message),
          this.options.retry,
        )
      },
    )
  }
}

/** The message for one command; exported so an emulation or a bridge can build the same. */
export function commandMessage(command: DeviceCommand): PublishMessage {
  return {
    data: Buffer.from(JSON.stringify(command)),
    attributes: {
      mqttTopic: topics.commands(command.deviceId),
      deviceId: command.deviceId,
      command: command.command,
    },
  }
}
