/**
 * The Azure edge under Pulumi mocks, no CLI and no cloud: resources echo their inputs back with an
 * ARM id and the outputs Azure computes (host names, endpoints, the app's identity), the key-listing
 * invokes answer for the policies and topics the program made, and every registration is recorded
 * with the options Pulumi would send the engine (`protect`, `retainOnDelete`, dependencies), which
 * the mocks' `newResource` never sees.
 */
import * as pulumi from '@pulumi/pulumi'
import { type Registration, recordRegistrations, resourcesIn, value } from '../../test/pulumi-mocks.ts'
import type { AzureNative } from '../common.ts'

export const SUBSCRIPTION = '00000000-0000-4000-8000-000000000001'
export const TENANT = '00000000-0000-4000-8000-000000000002'
export const PRINCIPAL_ID = '00000000-0000-4000-8000-000000000003'
export const LOCATION = 'westeurope'
/** Characters a URL must escape, so the database URL is checked for it. */
export const DATABASE_PASSWORD = 'p@ss/w:rd#1 %'
export const PACKAGE_SHA256 = 'ab'.repeat(32)
/** The built-in endpoint's namespace, as Azure names it. */
export const EVENTS_NAMESPACE = 'ihsuprodamres001dednamespace.servicebus.windows.net'

export interface Invoke {
  token: string
  inputs: Record<string, unknown>
}

/** The input holding each type's physical name. */
const NAME_INPUT: Record<string, string> = {
  'azure-native:resources:ResourceGroup': 'resourceGroupName',
  'azure-native:iothub:IotHubResource': 'resourceName',
  'azure-native:iothub:IotHubResourceEventHubConsumerGroup': 'name',
  'azure-native:dbforpostgresql:Server': 'serverName',
  'azure-native:dbforpostgresql:Database': 'databaseName',
  'azure-native:dbforpostgresql:FirewallRule': 'firewallRuleName',
  'azure-native:dbforpostgresql:Configuration': 'configurationName',
  'azure-native:eventgrid:Topic': 'topicName',
  'azure-native:storage:StorageAccount': 'accountName',
  'azure-native:storage:BlobContainer': 'containerName',
  'azure-native:storage:Blob': 'blobName',
  'azure-native:web:AppServicePlan': 'name',
  'azure-native:web:WebApp': 'name',
}

const ARM_TYPE: Record<string, string> = {
  'azure-native:iothub:IotHubResource': 'Microsoft.Devices/IotHubs',
  'azure-native:dbforpostgresql:Server': 'Microsoft.DBforPostgreSQL/flexibleServers',
  'azure-native:eventgrid:Topic': 'Microsoft.EventGrid/topics',
  'azure-native:storage:StorageAccount': 'Microsoft.Storage/storageAccounts',
  'azure-native:web:AppServicePlan': 'Microsoft.Web/serverfarms',
  'azure-native:web:WebApp': 'Microsoft.Web/sites',
}

const registrations: Registration[] = []
export const invokes: Invoke[] = []
/** Each hub's policies as the program gave them, so key listings answer only for those. */
const hubPolicies = new Map<string, { keyName: string; rights: string }[]>()

const key = (text: string) => Buffer.from(text).toString('base64')

function computed(type: string, physical: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case 'azure-native:iothub:IotHubResource': {
      const properties = (inputs.properties ?? {}) as {
        eventHubEndpoints?: Record<string, object>
        authorizationPolicies?: { keyName: string; rights: string }[]
      }
      hubPolicies.set(physical, properties.authorizationPolicies ?? [])
      const events = properties.eventHubEndpoints?.events as { partitionCount?: number } | undefined
      return {
        properties: {
          ...properties,
          hostName: `${physical}.azure-devices.net`,
          eventHubEndpoints: {
            events: {
              ...events,
              endpoint: `sb://${EVENTS_NAMESPACE}/`,
              path: physical,
              partitionIds: Array.from({ length: events?.partitionCount ?? 4 }, (_, i) => String(i)),
            },
          },
          locations: [],
          provisioningState: 'Succeeded',
          state: 'Active',
        },
      }
    }
    case 'azure-native:dbforpostgresql:Server':
      return { fullyQualifiedDomainName: `${physical}.postgres.database.azure.com` }
    case 'azure-native:eventgrid:Topic':
      return { endpoint: `https://${physical}.${inputs.location}-1.eventgrid.azure.net/api/events` }
    case 'azure-native:storage:StorageAccount':
      return { primaryEndpoints: { blob: `https://${physical}.blob.core.windows.net/` } }
    case 'azure-native:web:WebApp':
      return {
        identity: { ...(inputs.identity as object), principalId: PRINCIPAL_ID, tenantId: TENANT },
        defaultHostName: `${physical}.azurewebsites.net`,
      }
    default:
      return {}
  }
}

function armId(type: string, physical: string, inputs: Record<string, unknown>): string {
  const group = `/subscriptions/${SUBSCRIPTION}/resourceGroups`
  if (type === 'azure-native:resources:ResourceGroup') return `${group}/${physical}`
  if (type === 'azure-native:authorization:RoleAssignment') {
    return `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/${physical}`
  }
  return `${group}/${inputs.resourceGroupName}/providers/${ARM_TYPE[type] ?? type}/${physical}`
}

async function setMocks(): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs }) => {
        const nameInput = NAME_INPUT[type]
        const given = nameInput === undefined ? undefined : inputs[nameInput]
        const physical =
          typeof given === 'string' ? given : type.endsWith(':RoleAssignment') ? crypto.randomUUID() : name
        const id = armId(type, physical, inputs)
        return { id, state: { ...inputs, name: physical, id, ...computed(type, physical, inputs) } }
      },
      call: ({ token, inputs }) => {
        invokes.push({ token, inputs })
        switch (token) {
          case 'azure-native:iothub:listIotHubResourceKeysForKeyName': {
            const policy = hubPolicies.get(inputs.resourceName)?.find((p) => p.keyName === inputs.keyName)
            if (!policy) throw new Error(`no policy ${inputs.keyName} on hub ${inputs.resourceName}`)
            return {
              ...policy,
              primaryKey: key(`${inputs.resourceName}/${policy.keyName}/primary`),
              secondaryKey: key(`${inputs.resourceName}/${policy.keyName}/secondary`),
            }
          }
          case 'azure-native:eventgrid:listTopicSharedAccessKeys':
            return { key1: key(`${inputs.topicName}/key1`), key2: key(`${inputs.topicName}/key2`) }
          default:
            throw new Error(`unmocked invoke ${token}`)
        }
      },
    },
    'fleetpipe',
    'test',
  )
  recordRegistrations(registrations)
}

/** The submodules the program uses, as `AzureNative`; sst.config.ts passes the whole namespace. */
async function azureNative(): Promise<AzureNative> {
  return {
    authorization: await import('@pulumi/azure-native/authorization'),
    dbforpostgresql: await import('@pulumi/azure-native/dbforpostgresql'),
    eventgrid: await import('@pulumi/azure-native/eventgrid'),
    iothub: await import('@pulumi/azure-native/iothub'),
    resources: await import('@pulumi/azure-native/resources'),
    storage: await import('@pulumi/azure-native/storage'),
    web: await import('@pulumi/azure-native/web'),
  }
}

async function buildStage(azure: AzureNative, infra: typeof import('../index.ts'), stage: string) {
  const code = {
    archive: new pulumi.asset.AssetArchive({ 'main.js': new pulumi.asset.StringAsset('export {}\n') }),
    sha256: PACKAGE_SHA256,
  }
  const edge = infra.azureEdge(azure, {
    app: 'fleetpipe',
    stage,
    production: stage === 'production',
    location: LOCATION,
    code,
    databasePassword: DATABASE_PASSWORD,
  })
  // Every resource registered (its URN known) before the next stage's registrations start.
  const resources = resourcesIn(edge)
  await Promise.all(resources.map((resource) => value(resource.urn)))
  return { edge, code, resources, registrations: registrations.splice(0) }
}

export type Stage = Awaited<ReturnType<typeof buildStage>>

/**
 * Mocks first, then the modules under test, then one program per stage. The stages share logical
 * names: the mock monitor, unlike the engine, does not refuse a repeated URN.
 */
export async function buildStages(): Promise<{ dev: Stage; production: Stage }> {
  await setMocks()
  const azure = await azureNative()
  const infra = await import('../index.ts')
  const dev = await buildStage(azure, infra, 'dev')
  const production = await buildStage(azure, infra, 'production')
  return { dev, production }
}

/** The registration of the resource with this logical name and type. */
export function registrationOf(stage: Stage, type: string, name: string): Registration {
  const found = stage.registrations.find((r) => r.type === type && r.name === name)
  if (!found) throw new Error(`no ${type} ${name} registered`)
  return found
}

/**
 * An input the resource's class does not declare as an output (a blob's name, a password). The
 * resource still carries it at runtime, and the mocks echo every input back as state.
 */
export function undeclaredOutput<T = unknown>(resource: pulumi.Resource, name: string): pulumi.Output<T> {
  const output = (resource as unknown as Record<string, pulumi.Output<T> | undefined>)[name]
  if (!output) throw new Error(`${name} is not an input of this resource`)
  return output
}

/** `undeclaredOutput`'s value. */
export function inputOf<T = unknown>(resource: pulumi.Resource, name: string): Promise<pulumi.Unwrap<T>> {
  return value(undeclaredOutput<T>(resource, name))
}

export { type Registration, resourcesIn, value }
