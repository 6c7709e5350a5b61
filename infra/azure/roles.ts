/**
 * Least-privilege role assignments: the function app's identity gets one role, on the one storage
 * account that holds its host state and its package, and nothing at resource group or subscription
 * scope. The IoT hub, the database and the Event Grid topic are reached with keys and a password
 * (see iot-hub.ts, database.ts, alerts.ts), so they need no role.
 */
import type * as pulumi from '@pulumi/pulumi'
import type { AzureNative } from './common.ts'

/**
 * Built-in role definition ids: the same GUIDs in every tenant.
 * https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
 */
export const BUILT_IN_ROLES = {
  /** Storage Blob Data Owner. */
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  /** EventGrid Data Sender: the keyless way to publish alerts (not assigned, see alerts.ts). */
  eventGridDataSender: 'd5a91429-5739-47e2-a06b-3470a27159e7',
  /** IoT Hub Data Contributor: keyless cloud-to-device sends (not assigned, see the README). */
  iotHubDataContributor: '4fc6c259-987e-4a07-842e-c321cc9d413f',
} as const

/**
 * A role definition's id as a role assignment takes it, in the subscription of `scopeId` (an ARM
 * id, `/subscriptions/{id}/…`), which spares an invoke for the subscription.
 */
export function roleDefinitionId(scopeId: string, roleId: string): string {
  const subscription = /^\/subscriptions\/([^/]+)/i.exec(scopeId)?.[1]
  if (!subscription) throw new Error(`not an ARM id under a subscription: ${scopeId}`)
  return `/subscriptions/${subscription}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`
}

/**
 * Storage Blob Data Owner on the app's storage account: what identity-based AzureWebJobsStorage
 * requires (the host keeps its keys, leases, the Event Hub checkpoints and the sweep timer's
 * schedule status in blobs), and it covers reading the package from the deployment container,
 * which Flex Consumption does with the same identity. No queue or table role: no blob trigger, no Durable Functions.
 * https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity
 * https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#configure-deployment-settings
 *
 * `principalType` is given because the identity is minutes old: without it, the assignment can
 * fail while Entra ID replicates the new principal.
 * https://learn.microsoft.com/azure/role-based-access-control/role-assignments-template#new-service-principal
 */
export function functionAppRoles(
  azure: AzureNative,
  args: { principalId: pulumi.Input<string>; storageAccountId: pulumi.Output<string> },
) {
  const storageBlobDataOwner = new azure.authorization.RoleAssignment('IngestAppStorageBlobDataOwner', {
    principalId: args.principalId,
    principalType: 'ServicePrincipal',
    roleDefinitionId: args.storageAccountId.apply((id) =>
      roleDefinitionId(id, BUILT_IN_ROLES.storageBlobDataOwner),
    ),
    scope: args.storageAccountId,
    description: 'fleetpipe ingest: host storage (AzureWebJobsStorage) and the deployment package',
  })
  return { storageBlobDataOwner }
}
