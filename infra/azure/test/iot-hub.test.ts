import { beforeAll, describe, expect, it } from 'vitest'
import { scopeSuffix } from '../common.ts'
import { iotHub } from '../iot-hub.ts'
import { buildStages, EVENTS_NAMESPACE, inputOf, invokes, type Stage, value } from './_mocks.ts'

let dev: Stage
let production: Stage

beforeAll(async () => {
  ;({ dev, production } = await buildStages())
})

const ALL_RIGHTS = ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect']
const rightsOf = (rights: string) => rights.split(',').map((right) => right.trim())

describe('the IoT hub', () => {
  it('is F1 in dev and S1 in production, named uniquely per stage and subscription', async () => {
    expect(await value(dev.edge.iotHub.hub.sku)).toEqual({ name: 'F1', capacity: 1 })
    expect(await value(production.edge.iotHub.hub.sku)).toEqual({ name: 'S1', capacity: 1 })
    for (const stage of [dev, production]) {
      const suffix = scopeSuffix(await value(stage.edge.group.id))
      expect(await value(stage.edge.iotHub.hub.name)).toBe(`fleetpipe-${stage.edge.stage}-iot-${suffix}`)
    }
    expect(await value(dev.edge.iotHub.hub.name)).not.toBe(await value(production.edge.iotHub.hub.name))
  })

  it('keeps events on the built-in endpoint 1 day on 2 partitions in dev, 7 days on 8 in production', async () => {
    const endpoints = async (stage: Stage) =>
      (await value(stage.edge.iotHub.hub.properties)).eventHubEndpoints
    expect((await endpoints(dev))?.events).toMatchObject({ partitionCount: 2, retentionTimeInDays: 1 })
    expect((await endpoints(production))?.events).toMatchObject({ partitionCount: 8, retentionTimeInDays: 7 })
    // `events` is the only endpoint IoT Hub accepts there.
    expect(Object.keys((await endpoints(production)) ?? {})).toEqual(['events'])
  })

  it('routes every device message to the built-in endpoint, by a route and by the fallback', async () => {
    const { routing } = await value(dev.edge.iotHub.hub.properties)
    expect(routing?.routes).toEqual([
      {
        name: 'device-messages-to-events',
        source: 'DeviceMessages',
        condition: 'true',
        endpointNames: ['events'],
        isEnabled: true,
      },
    ])
    expect(routing?.fallbackRoute).toEqual({
      name: '$fallback',
      source: 'DeviceMessages',
      condition: 'true',
      endpointNames: ['events'],
      isEnabled: true,
    })
    expect(routing?.endpoints).toBeUndefined()
  })

  it("gives the function a consumer group of its own on the built-in endpoint: 'fleetpipe'", async () => {
    for (const stage of [dev, production]) {
      const group = stage.edge.iotHub.consumerGroup
      expect(await value(group.name)).toBe('fleetpipe')
      expect(await value(group.properties)).toEqual({ name: 'fleetpipe' })
      expect(await inputOf(group, 'resourceName')).toBe(await value(stage.edge.iotHub.hub.name))
      expect(await inputOf(group, 'eventHubEndpointName')).toBe('events')
    }
  })

  it('replaces the default policies with three, none of which may connect as a device', async () => {
    const { authorizationPolicies } = await value(dev.edge.iotHub.hub.properties)
    expect(authorizationPolicies).toEqual([
      { keyName: 'fleetpipe-events', rights: 'ServiceConnect' },
      { keyName: 'fleetpipe-commands', rights: 'ServiceConnect' },
      { keyName: 'fleetpipe-operators', rights: 'RegistryRead, RegistryWrite, ServiceConnect' },
    ])
    for (const policy of authorizationPolicies ?? []) {
      for (const right of rightsOf(policy.rights)) expect(ALL_RIGHTS).toContain(right)
      expect(rightsOf(policy.rights)).not.toContain('DeviceConnect')
    }
    expect(authorizationPolicies?.map((p) => p.keyName)).not.toContain('iothubowner')
  })

  it("hands the function the built-in endpoint's connection string with the events policy, no EntityPath", async () => {
    const connection = await value(dev.edge.iotHub.eventsConnection)
    const key = Buffer.from(`${await value(dev.edge.iotHub.hub.name)}/fleetpipe-events/primary`).toString(
      'base64',
    )
    expect(connection).toBe(
      `Endpoint=sb://${EVENTS_NAMESPACE}/;SharedAccessKeyName=fleetpipe-events;SharedAccessKey=${key}`,
    )
    expect(connection).not.toContain('EntityPath')
    expect(await value(dev.edge.iotHub.eventHubName)).toBe(await value(dev.edge.iotHub.hub.name))
  })

  it('hands the function a service connection string with the commands policy', async () => {
    const hubName = await value(dev.edge.iotHub.hub.name)
    const key = Buffer.from(`${hubName}/fleetpipe-commands/primary`).toString('base64')
    expect(await value(dev.edge.iotHub.serviceConnection)).toBe(
      `HostName=${hubName}.azure-devices.net;SharedAccessKeyName=fleetpipe-commands;SharedAccessKey=${key}`,
    )
  })

  it("lists the keys of the function's two policies only, never the operators'", () => {
    const listed = invokes
      .filter((i) => i.token === 'azure-native:iothub:listIotHubResourceKeysForKeyName')
      .map((i) => i.inputs.keyName)
    expect(new Set(listed)).toEqual(new Set(['fleetpipe-events', 'fleetpipe-commands']))
    expect(invokes.map((i) => i.token)).not.toContain('azure-native:iothub:listIotHubResourceKeys')
  })

  it('refuses F1 for production, which needs 7 days of retention', () => {
    const placement = { resourceGroupName: 'rg', resourceGroupId: '/subscriptions/s/resourceGroups/rg' }
    const args = { app: 'fleetpipe', stage: 'production', production: true, location: 'westeurope' }
    // It throws before touching the provider, so no namespace is needed.
    expect(() => iotHub({} as never, { ...args, ...placement, sku: 'F1' })).toThrow(/S1 or larger/)
  })
})
