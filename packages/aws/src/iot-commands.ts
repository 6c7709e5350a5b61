import { type IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane'
import { type CommandPublisher, type DeviceCommand, forEachInOrderBy, topics } from '@fleetpipe/core'
import { type RetryPolicy, withRetry } from './_transient.ts'

export interface IotCommandOptions {
  /** Publishes in flight at once (one device's commands always go in order). */
  maxParallel?: number
  retry?: RetryPolicy
}

/**
 * Device commands through AWS IoT Core's data plane: JSON on `fleet/{deviceId}/commands` at QoS 1.
 * A device ignores a redelivered command by its `id`.
 */
export class IotCommandPublisher implements CommandPublisher {
  constructor(
    private readonly iot: IoTDataPlaneClient,
    private readonly options: IotCommandOptions = {},
  ) {}

  async send(commands: readonly DeviceCommand[]): Promise<void> {
    await forEachInOrderBy(
      commands,
      (c) => c.deviceId,
      this.options.maxParallel ?? 8,
      async (command) => {
        const publish = new PublishCommand({
          topic: topics.commands(command.deviceId),
          qos: 1,
          payload: new TextEncoder().encode(JSON.stringify(command)),
          contentType: 'application/json',
        })
        await withRetry(`IoT Publish ${command.id}`, () => this.iot.send(publish), this.options.retry)
      },
    )
  }
}
