/**
 * What every infra/azure function shares: the provider namespace it is handed, the resource group
 * it deploys into, names, and how production protects its data.
 */
import { createHash } from 'node:crypto'
import * as pulumi from '@pulumi/pulumi'

/**
 * The parts of `@pulumi/azure-native` this folder uses. sst.config.ts passes SST's `azurenative`
 * global (the whole namespace, which fits); tests pass just these submodules, so they load seven of
 * the package's ~250 modules.
 */
export type AzureNative = Pick<
  typeof import('@pulumi/azure-native'),
  'authorization' | 'dbforpostgresql' | 'eventgrid' | 'iothub' | 'resources' | 'storage' | 'web'
>

export interface StageArgs {
  /** The app's name (`$app.name`), the first part of every physical name. */
  app: string
  stage: string
  /** Production keeps its data: see `dataProtection`. */
  production: boolean
}

/** Where a resource goes: the stage's resource group and its region. */
export interface Placement {
  resourceGroupName: pulumi.Input<string>
  /** The resource group's ARM id, which the globally unique names are derived from. */
  resourceGroupId: pulumi.Input<string>
  location: pulumi.Input<string>
}

/** `fleetpipe-dev-plan`: for names that only need to be unique inside the stage's resource group. */
export function physicalName(args: Pick<StageArgs, 'app' | 'stage'>, what: string): string {
  return `${args.app}-${args.stage}-${what}`
}

/** Six hex characters of a hash of the resource group's id: the same on every deploy of a stage. */
export function scopeSuffix(resourceGroupId: string): string {
  return createHash('sha256').update(resourceGroupId.toLowerCase()).digest('hex').slice(0, 6)
}

/**
 * `fleetpipe-dev-iot-1a2b3c`, for the resources whose name is a DNS label shared by every Azure
 * customer (`{name}.azure-devices.net`, `.postgres.database.azure.com`, `.azurewebsites.net`,
 * `.eventgrid.azure.net`): the suffix comes from the resource group's id, which includes the
 * subscription, as Bicep's `uniqueString(resourceGroup().id)` does. No random provider, and the
 * name never changes for a stage.
 */
export function uniqueName(
  args: Pick<StageArgs, 'app' | 'stage'>,
  what: string,
  resourceGroupId: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi.output(resourceGroupId).apply((id) => `${physicalName(args, what)}-${scopeSuffix(id)}`)
}

/**
 * Storage account names are 3–24 lowercase letters and digits, unique across Azure: the app and
 * stage without their hyphens, cut to 18, then the same suffix as `uniqueName`.
 * https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftstorage
 */
export function storageAccountName(
  args: Pick<StageArgs, 'app' | 'stage'>,
  resourceGroupId: pulumi.Input<string>,
): pulumi.Output<string> {
  const base = `${args.app}${args.stage}`
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 18)
  return pulumi.output(resourceGroupId).apply((id) => `${base}${scopeSuffix(id)}`)
}

/**
 * Production's data outlives a mistaken delete or replace: `protect` makes Pulumi refuse to delete
 * it, `retainOnDelete` leaves it in the subscription when it leaves the program. The resource group
 * holding it gets the same, because deleting a group deletes everything in it, retained or not.
 * https://www.pulumi.com/docs/iac/concepts/options/protect/
 * https://www.pulumi.com/docs/iac/concepts/options/retainondelete/
 */
export function dataProtection(production: boolean): pulumi.CustomResourceOptions {
  return production ? { protect: true, retainOnDelete: true } : {}
}
