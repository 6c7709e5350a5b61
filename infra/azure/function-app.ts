/**
 * The ingest function app on the Flex Consumption plan: its storage account (host storage and the
 * deployment container, reached with the app's managed identity), the package uploaded into that
 * container, the plan, the app, and its settings.
 *
 * Deploying the code: the package is a blob, `released-package.zip` in the deployment container,
 * which Flex Consumption instances download when they start (the name is the one OneDeploy
 * writes). A running instance keeps its package, so the settings carry the package's hash
 * (`APP_PACKAGE_SHA256`): new code changes the settings, and a settings change restarts the app.
 * Limits: this is not OneDeploy (which `func azure functionapp publish` and
 * `az functionapp deployment source config-zip` use), so there is no deployment record, no
 * deployment log, and no trigger sync of its own; if the portal lists no `ingest` function after a
 * deploy, sync the triggers (README, Azure). Instances already running finish their invocations on
 * the old package while the app restarts.
 * https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan#deployment
 * https://learn.microsoft.com/azure/azure-functions/functions-deployment-technologies#trigger-syncing
 */
import * as pulumi from '@pulumi/pulumi'
import type { AppPackage } from './code.ts'
import {
  type AzureNative,
  type Placement,
  physicalName,
  type StageArgs,
  storageAccountName,
  uniqueName,
} from './common.ts'

export const PACKAGE_CONTAINER = 'app-package'
export const PACKAGE_BLOB = 'released-package.zip'

/** Flex Consumption sets the language here, not with FUNCTIONS_WORKER_RUNTIME or linuxFxVersion. */
export const APP_RUNTIME = { name: 'node', version: '22' } as const

/**
 * Dev runs on the smallest instances (512 MB, billed by GB-s); production on 2,048 MB, the default,
 * with proportionally more CPU for batches of 100.
 * https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan#instance-memory
 */
export const INSTANCE_MEMORY_MB: Record<'dev' | 'production', number> = { dev: 512, production: 2048 }

/**
 * App settings Flex Consumption refuses or ignores, because the plan's own configuration replaced
 * them; none of them may be set.
 * https://learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations
 */
export const FLEX_DEPRECATED_SETTINGS = [
  'FUNCTIONS_EXTENSION_VERSION',
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_WORKER_RUNTIME_VERSION',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
]

export interface FunctionHostArgs extends StageArgs, Placement {
  code: Pick<AppPackage, 'archive'>
  /** The Event Hub trigger runs at most one instance per partition: more would sit idle. */
  maximumInstanceCount: number
}

/** Everything the app is made of except its settings, which need the app's role first. */
export function functionHost(azure: AzureNative, args: FunctionHostArgs) {
  const storage = new azure.storage.StorageAccount('AppStorage', {
    resourceGroupName: args.resourceGroupName,
    location: args.location,
    accountName: storageAccountName(args, args.resourceGroupId),
    kind: 'StorageV2',
    sku: { name: 'Standard_LRS' },
    minimumTlsVersion: 'TLS1_2',
    enableHttpsTrafficOnly: true,
    allowBlobPublicAccess: false,
    // The app uses its identity, but Pulumi's Blob resource uploads the package with the account
    // key, so shared keys stay allowed; turning them off means deploying the code another way.
    // https://github.com/pulumi/pulumi-azure-native/pull/3719
    allowSharedKeyAccess: true,
    defaultToOAuthAuthentication: true,
  })
  const container = new azure.storage.BlobContainer('AppPackageContainer', {
    resourceGroupName: args.resourceGroupName,
    accountName: storage.name,
    containerName: PACKAGE_CONTAINER,
    publicAccess: 'None',
  })
  const packageBlob = new azure.storage.Blob('AppPackage', {
    resourceGroupName: args.resourceGroupName,
    accountName: storage.name,
    containerName: container.name,
    blobName: PACKAGE_BLOB,
    type: 'Block',
    contentType: 'application/zip',
    source: args.code.archive,
  })
  const plan = new azure.web.AppServicePlan('AppPlan', {
    resourceGroupName: args.resourceGroupName,
    location: args.location,
    name: physicalName(args, 'plan'),
    kind: 'functionapp',
    // Linux: Flex Consumption has no Windows.
    reserved: true,
    sku: { name: 'FC1', tier: 'FlexConsumption' },
  })
  const app = new azure.web.WebApp('IngestApp', {
    resourceGroupName: args.resourceGroupName,
    location: args.location,
    name: uniqueName(args, 'ingest', args.resourceGroupId),
    kind: 'functionapp,linux',
    serverFarmId: plan.id,
    httpsOnly: true,
    identity: { type: 'SystemAssigned' },
    siteConfig: { minTlsVersion: '1.2' },
    // https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#configure-deployment-settings
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer',
          value: pulumi.interpolate`${storage.primaryEndpoints.blob}${container.name}`,
          authentication: { type: 'SystemAssignedIdentity' },
        },
      },
      runtime: APP_RUNTIME,
      scaleAndConcurrency: {
        instanceMemoryMB: INSTANCE_MEMORY_MB[args.production ? 'production' : 'dev'],
        maximumInstanceCount: args.maximumInstanceCount,
      },
    },
  })
  const principalId = app.identity.apply((identity) => {
    if (!identity?.principalId) throw new Error('the function app has no system-assigned identity')
    return identity.principalId
  })
  return { storage, container, packageBlob, plan, app, principalId }
}

export type FunctionHost = ReturnType<typeof functionHost>

/**
 * The app's settings, all of them (the resource replaces the whole set). Made after the package is
 * uploaded and the app's role on its storage is granted (`dependsOn`), so the restart a settings
 * change causes finds both; the first start otherwise races the role assignment.
 * Host storage is identity-based: `__accountName` alone means the system-assigned identity.
 * https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity
 */
export function functionAppSettings(
  azure: AzureNative,
  args: {
    host: FunctionHost
    resourceGroupName: pulumi.Input<string>
    packageSha256: string
    /** The function's own settings (`ingestSettings`). */
    settings: Record<string, pulumi.Input<string>>
    applicationInsightsConnectionString?: pulumi.Input<string>
    dependsOn: pulumi.Resource[]
  },
) {
  return new azure.web.WebAppApplicationSettings(
    'IngestAppSettings',
    {
      resourceGroupName: args.resourceGroupName,
      name: args.host.app.name,
      properties: {
        AzureWebJobsStorage__accountName: args.host.storage.name,
        APP_PACKAGE_SHA256: args.packageSha256,
        ...(args.applicationInsightsConnectionString === undefined
          ? {}
          : { APPLICATIONINSIGHTS_CONNECTION_STRING: args.applicationInsightsConnectionString }),
        ...args.settings,
      },
    },
    { dependsOn: [args.host.packageBlob, ...args.dependsOn] },
  )
}
