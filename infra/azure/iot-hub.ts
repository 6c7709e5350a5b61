/**
 * The IoT hub devices connect to, its built-in Event Hub-compatible endpoint (`events`) where their
 * messages wait for the function, the function's own consumer group there, and the shared access
 * policies the function and operators use, each with only the rights it needs.
 */
import * as pulumi from '@pulumi/pulumi'
import { DEFAULT_CONSUMER_GROUP } from '../../functions/azure/src/config.ts'
import { type AzureNative, dataProtection, type Placement, type StageArgs, uniqueName } from './common.ts'

/**
 * Basic tiers (B1–B3) are left out: they have no cloud-to-device messages, which carry the
 * commands. F1 is free but allowed once per subscription, with 8,000 messages a day, 2 partitions
 * and 1 day of retention; it cannot route to custom endpoints, which this hub does not need.
 * https://learn.microsoft.com/azure/iot-hub/iot-hub-scaling
 */
export type IotHubSku = 'F1' | 'S1' | 'S2' | 'S3'

/** The built-in endpoint's name: the only key `eventHubEndpoints` accepts. */
export const EVENTS_ENDPOINT = 'events'

/**
 * The built-in endpoint's shape. Partitions are fixed when the hub is created, and the Event Hub
 * trigger runs at most one instance per partition, so they bound the function's scale-out (and
 * `maximumInstanceCount` is set to them). Retention is how long the events wait for the function:
 * a day in dev, seven (the most a standard hub keeps) in production, which is how long the
 * function can be down or retrying before messages are lost.
 * https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-messages-read-builtin
 */
export const EVENTS_SHAPE: Record<'dev' | 'production', { partitionCount: number; retentionDays: number }> = {
  dev: { partitionCount: 2, retentionDays: 1 },
  production: { partitionCount: 8, retentionDays: 7 },
}

/**
 * The hub's shared access policies, replacing Azure's defaults (`iothubowner`, `service`,
 * `device`, `registryRead`, `registryReadWrite`): no policy grants `DeviceConnect`, since every
 * device connects with its own identity's key. Azure generates a policy's keys when it is sent
 * without them, and this program never sends keys, so an update of the hub may rotate them: the
 * keys are listed after the hub's update, and the function's settings carry the new ones in the same
 * deployment (the trigger reconnects when the app restarts on the changed settings).
 * https://learn.microsoft.com/azure/iot-hub/authenticate-authorize-sas#access-control-and-permissions
 */
export const HUB_POLICIES = {
  /** The function's trigger: reading the built-in endpoint takes `ServiceConnect`. */
  events: { keyName: 'fleetpipe-events', rights: 'ServiceConnect' },
  /** The function's cloud-to-device commands (`FLEETPIPE_IOTHUB_SERVICE_CONNECTION`). */
  commands: { keyName: 'fleetpipe-commands', rights: 'ServiceConnect' },
  /** People: registering devices and watching events (`az iot hub … --policy-name fleetpipe-operators`). */
  operators: { keyName: 'fleetpipe-operators', rights: 'RegistryRead, RegistryWrite, ServiceConnect' },
} as const

export interface IotHubArgs extends StageArgs, Placement {
  /** F1 in dev unless given, S1 in production. */
  sku?: IotHubSku
}

/**
 * The hub, kept in production (its registry holds every device's identity and key), and the
 * connection strings the function's settings need.
 */
export function iotHub(azure: AzureNative, args: IotHubArgs) {
  const sku = args.sku ?? (args.production ? 'S1' : 'F1')
  const shape = EVENTS_SHAPE[args.production ? 'production' : 'dev']
  if (sku === 'F1' && (shape.retentionDays > 1 || shape.partitionCount !== 2)) {
    throw new Error(`IoT Hub F1 keeps events 1 day on 2 partitions; ${args.stage} needs S1 or larger`)
  }
  const hub = new azure.iothub.IotHubResource(
    'IotHub',
    {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      resourceName: uniqueName(args, 'iot', args.resourceGroupId),
      sku: { name: sku, capacity: 1 },
      properties: {
        eventHubEndpoints: {
          [EVENTS_ENDPOINT]: {
            partitionCount: shape.partitionCount,
            retentionTimeInDays: shape.retentionDays,
          },
        },
        authorizationPolicies: Object.values(HUB_POLICIES).map(({ keyName, rights }) => ({
          keyName,
          rights,
        })),
        // Device messages reach the built-in endpoint only while no route claims them: once any route
        // exists, the fallback route takes just the messages that match none. The named route keeps
        // every device message on `events` whatever routes are added later (a message matching
        // several routes to one endpoint is delivered there once), and the fallback is written out
        // rather than left to the default.
        // https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-messages-d2c#fallback-route
        routing: {
          routes: [
            {
              name: 'device-messages-to-events',
              source: 'DeviceMessages',
              condition: 'true',
              endpointNames: [EVENTS_ENDPOINT],
              isEnabled: true,
            },
          ],
          fallbackRoute: {
            name: '$fallback',
            source: 'DeviceMessages',
            condition: 'true',
            endpointNames: [EVENTS_ENDPOINT],
            isEnabled: true,
          },
        },
      },
    },
    dataProtection(args.production),
  )

  // Sharing `$Default` with another reader (a portal session, `az iot hub monitor-events`) would
  // make the two steal partitions from each other.
  const consumerGroup = new azure.iothub.IotHubResourceEventHubConsumerGroup('IngestConsumerGroup', {
    resourceGroupName: args.resourceGroupName,
    resourceName: hub.name,
    eventHubEndpointName: EVENTS_ENDPOINT,
    name: DEFAULT_CONSUMER_GROUP,
    properties: { name: DEFAULT_CONSUMER_GROUP },
  })

  const events = hub.properties.apply((properties) => {
    const endpoint = properties.eventHubEndpoints?.[EVENTS_ENDPOINT]
    if (!endpoint) throw new Error(`IoT hub ${hub.urn}: no ${EVENTS_ENDPOINT} endpoint`)
    return endpoint
  })
  const keyOf = (keyName: string) =>
    azure.iothub
      .listIotHubResourceKeysForKeyNameOutput({
        keyName,
        resourceGroupName: args.resourceGroupName,
        resourceName: hub.name,
      })
      .apply((rule) => {
        if (!rule.primaryKey) throw new Error(`IoT hub policy ${keyName} has no key`)
        return rule.primaryKey
      })

  return {
    hub,
    consumerGroup,
    sku,
    shape,
    hostName: hub.properties.hostName,
    /** The event hub name the trigger reads (`EVENTHUB_NAME`): the hub's Event Hub-compatible name. */
    eventHubName: events.path,
    /**
     * The built-in endpoint's connection string (`IOTHUB_EVENTS`). No `EntityPath`: the trigger
     * names the event hub itself (`%EVENTHUB_NAME%`), and the two must not disagree.
     */
    eventsConnection: pulumi.secret(
      pulumi.interpolate`Endpoint=${events.endpoint};SharedAccessKeyName=${HUB_POLICIES.events.keyName};SharedAccessKey=${keyOf(HUB_POLICIES.events.keyName)}`,
    ),
    /** The service connection string for cloud-to-device commands. */
    serviceConnection: pulumi.secret(
      pulumi.interpolate`HostName=${hub.properties.hostName};SharedAccessKeyName=${HUB_POLICIES.commands.keyName};SharedAccessKey=${keyOf(HUB_POLICIES.commands.keyName)}`,
    ),
  }
}
