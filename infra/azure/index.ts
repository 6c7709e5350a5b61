/**
 * The Azure edge, one resource group per stage: IoT hub → built-in Event Hub-compatible endpoint →
 * the ingest function (Flex Consumption) → PostgreSQL, Event Grid alerts and cloud-to-device
 * commands. `azureEdge` makes all of it, the function's code included (`buildAzureApp`), and
 * `ingestSettings` names what functions/azure/src/config.ts reads.
 */
import type { Rule } from '@fleetpipe/core'
import type * as pulumi from '@pulumi/pulumi'
import { HOST_SETTINGS } from '../../functions/azure/src/config.ts'
import { alertTopic } from './alerts.ts'
import type { AppPackage } from './code.ts'
import { type AzureNative, dataProtection, type Placement, physicalName, type StageArgs } from './common.ts'
import { postgres } from './database.ts'
import { functionAppSettings, functionHost } from './function-app.ts'
import { type IotHubSku, iotHub } from './iot-hub.ts'
import { functionAppRoles } from './roles.ts'

export { alertTopic } from './alerts.ts'
export {
  APP_ENTRY,
  APP_PACKAGE_JSON,
  type AppPackage,
  BUNDLE,
  buildAzureApp,
  EXTERNAL,
  HOST_JSON,
} from './code.ts'
export {
  type AzureNative,
  dataProtection,
  type Placement,
  physicalName,
  type StageArgs,
  scopeSuffix,
  storageAccountName,
  uniqueName,
} from './common.ts'
export { ALLOW_AZURE_RULE, DATABASE_ADMIN, DATABASE_NAME, DATABASE_SHAPE, postgres } from './database.ts'
export {
  APP_RUNTIME,
  FLEX_DEPRECATED_SETTINGS,
  type FunctionHost,
  functionAppSettings,
  functionHost,
  INSTANCE_MEMORY_MB,
  PACKAGE_BLOB,
  PACKAGE_CONTAINER,
} from './function-app.ts'
export { EVENTS_ENDPOINT, EVENTS_SHAPE, HUB_POLICIES, type IotHubSku, iotHub } from './iot-hub.ts'
export { BUILT_IN_ROLES, functionAppRoles, roleDefinitionId } from './roles.ts'

export interface AzureEdgeArgs extends StageArgs {
  /** The region, e.g. `westeurope`: one that offers Flex Consumption (`az functionapp list-flexconsumption-locations`). */
  location: string
  /** The function app's package, from `buildAzureApp`. */
  code: Pick<AppPackage, 'archive' | 'sha256'>
  /** The PostgreSQL administrator's password, e.g. an `sst.Secret`'s value. */
  databasePassword: pulumi.Input<string>
  /** F1 (free, one per subscription) in dev unless given, S1 in production. */
  iotHubSku?: IotHubSku
  /** FLEETPIPE_RULES; the core's rules when absent. */
  rules?: Rule[]
  /** FLEETPIPE_MAX_AGE_MS; the core's horizon (7 days) when absent. */
  maxAgeMs?: number
  /** Where the function's logs and its per-invocation report lines go; none when absent. */
  applicationInsightsConnectionString?: pulumi.Input<string>
}

/**
 * Everything a stage runs on Azure, in one call: unlike AWS, the function app is an ordinary
 * resource here, so nothing has to wait for a function that sst.config.ts makes.
 *
 * @example
 * const code = await buildAzureApp('.fleetpipe/azure-app')
 * const edge = azureEdge(azurenative, {
 *   app: $app.name,
 *   stage: $app.stage,
 *   production: $app.stage === 'production',
 *   location: 'westeurope',
 *   code,
 *   databasePassword: new sst.Secret('AzureDatabasePassword').value,
 * })
 */
export function azureEdge(azure: AzureNative, args: AzureEdgeArgs) {
  const stage: StageArgs = { app: args.app, stage: args.stage, production: args.production }
  const group = new azure.resources.ResourceGroup(
    'ResourceGroup',
    { resourceGroupName: physicalName(stage, 'rg'), location: args.location },
    dataProtection(args.production),
  )
  const placement: Placement = {
    resourceGroupName: group.name,
    resourceGroupId: group.id,
    location: args.location,
  }
  const hub = iotHub(azure, { ...stage, ...placement, sku: args.iotHubSku })
  const database = postgres(azure, { ...stage, ...placement, password: args.databasePassword })
  const alerts = alertTopic(azure, { ...stage, ...placement })
  const host = functionHost(azure, {
    ...stage,
    ...placement,
    code: args.code,
    maximumInstanceCount: hub.shape.partitionCount,
  })
  const roles = functionAppRoles(azure, { principalId: host.principalId, storageAccountId: host.storage.id })
  const settings = functionAppSettings(azure, {
    host,
    resourceGroupName: group.name,
    packageSha256: args.code.sha256,
    settings: ingestSettings({ stage: args.stage, iotHub: hub, database, alerts }, args),
    applicationInsightsConnectionString: args.applicationInsightsConnectionString,
    dependsOn: Object.values(roles),
  })
  return { stage: args.stage, group, iotHub: hub, database, alerts, app: { ...host, settings }, roles }
}

export type AzureEdge = ReturnType<typeof azureEdge>

/**
 * The settings functions/azure/src/config.ts reads: the three the trigger binding names
 * (`HOST_SETTINGS`), which the host resolves, and the FLEETPIPE_* ones. Alerts go to Event Grid:
 * the function has no webhook sink yet.
 */
export function ingestSettings(
  edge: Pick<AzureEdge, 'stage' | 'iotHub' | 'database' | 'alerts'>,
  options: { rules?: Rule[]; maxAgeMs?: number } = {},
): Record<string, pulumi.Input<string>> {
  return {
    FLEETPIPE_STAGE: edge.stage,
    FLEETPIPE_DATABASE_URL: edge.database.url,
    FLEETPIPE_EVENTGRID_ENDPOINT: edge.alerts.endpoint,
    FLEETPIPE_EVENTGRID_KEY: edge.alerts.key,
    FLEETPIPE_IOTHUB_SERVICE_CONNECTION: edge.iotHub.serviceConnection,
    ...(options.rules === undefined ? {} : { FLEETPIPE_RULES: JSON.stringify(options.rules) }),
    ...(options.maxAgeMs === undefined ? {} : { FLEETPIPE_MAX_AGE_MS: String(options.maxAgeMs) }),
    [HOST_SETTINGS.connection]: edge.iotHub.eventsConnection,
    [HOST_SETTINGS.eventHubName]: edge.iotHub.eventHubName,
    // The consumer group's own output, so the setting waits for the group to exist.
    [HOST_SETTINGS.consumerGroup]: edge.iotHub.consumerGroup.name,
  }
}
