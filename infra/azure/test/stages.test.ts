import { defaultRules, parseRules } from '@fleetpipe/core'
import * as pulumi from '@pulumi/pulumi'
import { beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_CONSUMER_GROUP, HOST_SETTINGS, loadConfig } from '../../../functions/azure/src/config.ts'
import { ingestSettings } from '../index.ts'
import {
  buildStages,
  DATABASE_PASSWORD,
  LOCATION,
  registrationOf,
  type Stage,
  SUBSCRIPTION,
  undeclaredOutput,
  value,
} from './_mocks.ts'

let dev: Stage
let production: Stage

beforeAll(async () => {
  ;({ dev, production } = await buildStages())
})

/**
 * The types that hold data: the database, the hub's registry of device identities, and the
 * resource group, whose deletion would take them along.
 */
const DATA_TYPES = [
  'azure-native:resources:ResourceGroup',
  'azure-native:iothub:IotHubResource',
  'azure-native:dbforpostgresql:Server',
  'azure-native:dbforpostgresql:Database',
]

const settingsOf = async (stage: Stage) => (await value(stage.edge.app.settings.properties)) ?? {}

describe('stages', () => {
  it("gives the function the settings functions/azure/src/config.ts reads, from the stage's resources", async () => {
    for (const stage of [dev, production]) {
      const config = loadConfig(await settingsOf(stage))
      const { iotHub, database, alerts } = stage.edge
      expect(config).toEqual({
        stage: stage.edge.stage,
        databaseUrl: await value(database.url),
        alerts: { kind: 'eventgrid', endpoint: await value(alerts.endpoint), key: await value(alerts.key) },
        iotHubServiceConnection: await value(iotHub.serviceConnection),
        rules: defaultRules,
        maxAgeMs: undefined,
        eventHub: { name: await value(iotHub.eventHubName), consumerGroup: DEFAULT_CONSUMER_GROUP },
      })
    }
  })

  it('sets the three settings the trigger binding names, with the consumer group made for it', async () => {
    const settings = await settingsOf(dev)
    expect(Object.values(HOST_SETTINGS).sort()).toEqual([
      'EVENTHUB_CONSUMER_GROUP',
      'EVENTHUB_NAME',
      'IOTHUB_EVENTS',
    ])
    expect(settings.IOTHUB_EVENTS).toBe(await value(dev.edge.iotHub.eventsConnection))
    expect(settings.EVENTHUB_NAME).toBe(await value(dev.edge.iotHub.eventHubName))
    expect(settings.EVENTHUB_CONSUMER_GROUP).toBe('fleetpipe')
  })

  it('connects to the fleetpipe database over verified TLS, with the password escaped', async () => {
    const url = new URL(await value(dev.edge.database.url))
    expect(url.protocol).toBe('postgres:')
    expect(url.username).toBe('fleetpipe')
    expect(decodeURIComponent(url.password)).toBe(DATABASE_PASSWORD)
    expect(url.host).toBe(`${await value(dev.edge.database.server.name)}.postgres.database.azure.com:5432`)
    expect(url.pathname).toBe('/fleetpipe')
    expect(url.searchParams.get('sslmode')).toBe('verify-full')
  })

  it('keeps secrets secret: keys, connection strings, the database URL and the password', async () => {
    const { iotHub, database, alerts } = dev.edge
    for (const output of [iotHub.eventsConnection, iotHub.serviceConnection, database.url, alerts.key]) {
      expect(await pulumi.isSecret(output)).toBe(true)
    }
    const password = undeclaredOutput<string>(database.server, 'administratorLoginPassword')
    expect(await pulumi.isSecret(password)).toBe(true)
    expect(await value(password)).toBe(DATABASE_PASSWORD)
    expect(await pulumi.isSecret(dev.edge.app.settings.properties)).toBe(true)
  })

  it('passes rules and a horizon through when given', async () => {
    const rules = parseRules([
      { id: 'hot', kind: 'threshold', metric: 'temperature', above: 90, clear: 85, severity: 'critical' },
    ])
    const settings = ingestSettings(dev.edge, { rules, maxAgeMs: 3_600_000 })
    const config = loadConfig(await value(pulumi.output(settings)))
    expect(config.rules).toEqual(rules)
    expect(config.maxAgeMs).toBe(3_600_000)
  })

  it('runs PostgreSQL 16: burstable in dev, zone-redundant with geo-redundant backups in production', async () => {
    const server = (stage: Stage) => stage.edge.database.server
    for (const stage of [dev, production]) expect(await value(server(stage).version)).toBe('16')
    expect(await value(server(dev).sku)).toEqual({ name: 'Standard_B1ms', tier: 'Burstable' })
    expect(await value(server(dev).highAvailability)).toMatchObject({ mode: 'Disabled' })
    expect(await value(server(dev).backup)).toEqual({
      backupRetentionDays: 7,
      geoRedundantBackup: 'Disabled',
    })
    expect(await value(server(production).sku)).toEqual({ name: 'Standard_D2ds_v5', tier: 'GeneralPurpose' })
    expect(await value(server(production).highAvailability)).toMatchObject({ mode: 'ZoneRedundant' })
    expect(await value(server(production).backup)).toEqual({
      backupRetentionDays: 35,
      geoRedundantBackup: 'Enabled',
    })
    expect(await value(server(production).administratorLogin)).toBe('fleetpipe')
  })

  it('makes the database, admits Azure and requires TLS, one change at a time', async () => {
    const { database, firewall, requireTls } = dev.edge.database
    expect(await value(database.name)).toBe('fleetpipe')
    expect(await value(firewall.startIpAddress)).toBe('0.0.0.0')
    expect(await value(firewall.endIpAddress)).toBe('0.0.0.0')
    expect(await value(firewall.name)).toBe('AllowAllAzureServicesAndResourcesWithinAzureIps')
    expect(await value(requireTls.name)).toBe('require_secure_connection')
    expect(await value(requireTls.value)).toBe('on')
    const rule = registrationOf(dev, 'azure-native:dbforpostgresql:FirewallRule', 'DatabaseAllowAzure')
    expect(rule.dependencies).toContain(await value(database.urn))
    const tls = registrationOf(dev, 'azure-native:dbforpostgresql:Configuration', 'DatabaseRequireTls')
    expect(tls.dependencies).toContain(await value(firewall.urn))
  })

  it('takes CloudEvents 1.0 on the alert topic, which the sink sends', async () => {
    for (const stage of [dev, production]) {
      const { topic } = stage.edge.alerts
      expect(await value(topic.inputSchema)).toBe('CloudEventSchemaV1_0')
      expect(await value(topic.disableLocalAuth)).toBe(false)
      expect(await value(stage.edge.alerts.endpoint)).toBe(
        `https://${await value(topic.name)}.${LOCATION}-1.eventgrid.azure.net/api/events`,
      )
    }
  })

  it('protects and retains the data of production only, and nothing else', () => {
    const data = (stage: Stage) => stage.registrations.filter((r) => DATA_TYPES.includes(r.type))
    expect(
      data(production)
        .map((r) => r.name)
        .sort(),
    ).toEqual(['Database', 'FleetpipeDatabase', 'IotHub', 'ResourceGroup'])
    for (const r of data(production)) expect(r, r.name).toMatchObject({ protect: true, retainOnDelete: true })
    for (const r of data(dev)) expect(r, r.name).toMatchObject({ protect: false, retainOnDelete: false })
    // The app, its storage and package, the topic, the consumer group, the role: free to be replaced.
    const rest = production.registrations.filter((r) => !DATA_TYPES.includes(r.type))
    expect(rest.length).toBe(11)
    for (const r of rest) expect(r, r.name).toMatchObject({ protect: false, retainOnDelete: false })
  })

  it('puts each stage in a resource group of its own, in the given region', async () => {
    expect(await value(dev.edge.group.name)).toBe('fleetpipe-dev-rg')
    expect(await value(production.edge.group.name)).toBe('fleetpipe-production-rg')
    expect(await value(production.edge.group.id)).toBe(
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/fleetpipe-production-rg`,
    )
    for (const stage of [dev, production]) {
      expect(await value(stage.edge.group.location)).toBe(LOCATION)
      const groupName = await value(stage.edge.group.name)
      for (const resource of [stage.edge.iotHub.hub, stage.edge.database.server, stage.edge.app.app]) {
        expect(await value(resource.id)).toContain(`/resourceGroups/${groupName}/`)
      }
    }
  })
})
