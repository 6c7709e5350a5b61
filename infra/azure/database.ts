/**
 * The store: PostgreSQL flexible server, the `fleetpipe` database @fleetpipe/postgres migrates on
 * the function's first connection, the firewall rule that lets the function in, and TLS required.
 * The server and the database are kept in production (see `dataProtection`).
 */
import * as pulumi from '@pulumi/pulumi'
import { type AzureNative, dataProtection, type Placement, type StageArgs, uniqueName } from './common.ts'

export const DATABASE_NAME = 'fleetpipe'
/** The administrator the function connects as (`admin`, `postgres` and similar are refused). */
export const DATABASE_ADMIN = 'fleetpipe'

export interface DatabaseShape {
  sku: { name: string; tier: 'Burstable' | 'GeneralPurpose' }
  storageSizeGB: number
  backupRetentionDays: number
  /** Only settable when the server is created. */
  geoRedundantBackup: 'Enabled' | 'Disabled'
  /** ZoneRedundant needs a region with availability zones. */
  highAvailability: 'Disabled' | 'ZoneRedundant'
}

/**
 * Dev: the smallest burstable server (1 vCore, 2 GiB, about $12 a month). Production: 2 dedicated
 * vCores with a standby in another zone and backups copied to the paired region, kept 35 days
 * (the most). High availability needs General Purpose or larger.
 * https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-high-availability
 * https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-backup-restore
 */
export const DATABASE_SHAPE: Record<'dev' | 'production', DatabaseShape> = {
  dev: {
    sku: { name: 'Standard_B1ms', tier: 'Burstable' },
    storageSizeGB: 32,
    backupRetentionDays: 7,
    geoRedundantBackup: 'Disabled',
    highAvailability: 'Disabled',
  },
  production: {
    sku: { name: 'Standard_D2ds_v5', tier: 'GeneralPurpose' },
    storageSizeGB: 128,
    backupRetentionDays: 35,
    geoRedundantBackup: 'Enabled',
    highAvailability: 'ZoneRedundant',
  },
}

/**
 * The name Azure gives the rule that admits "Azure services and resources": 0.0.0.0 to 0.0.0.0.
 * https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-firewall-rules#connect-from-azure
 */
export const ALLOW_AZURE_RULE = 'AllowAllAzureServicesAndResourcesWithinAzureIps'

export interface DatabaseArgs extends StageArgs, Placement {
  /** The administrator's password; kept secret in the state and in the connection URL. */
  password: pulumi.Input<string>
}

/** The server (kept in production), its database, firewall and TLS setting, and the URL the function connects with. */
export function postgres(azure: AzureNative, args: DatabaseArgs) {
  const keep = dataProtection(args.production)
  const shape = DATABASE_SHAPE[args.production ? 'production' : 'dev']
  const password = pulumi.secret(args.password)
  const server = new azure.dbforpostgresql.Server(
    'Database',
    {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      serverName: uniqueName(args, 'db', args.resourceGroupId),
      version: '16',
      administratorLogin: DATABASE_ADMIN,
      administratorLoginPassword: password,
      authConfig: { passwordAuth: 'Enabled', activeDirectoryAuth: 'Disabled' },
      sku: shape.sku,
      storage: { storageSizeGB: shape.storageSizeGB, autoGrow: 'Enabled' },
      backup: {
        backupRetentionDays: shape.backupRetentionDays,
        geoRedundantBackup: shape.geoRedundantBackup,
      },
      highAvailability: { mode: shape.highAvailability },
      network: { publicNetworkAccess: 'Enabled' },
    },
    keep,
  )
  // The server takes one change at a time ("ServerIsBusy" otherwise): the database, the firewall
  // rule and the TLS setting are made one after the other.
  const database = new azure.dbforpostgresql.Database(
    'FleetpipeDatabase',
    {
      resourceGroupName: args.resourceGroupName,
      serverName: server.name,
      databaseName: DATABASE_NAME,
      charset: 'UTF8',
      collation: 'en_US.utf8',
    },
    keep,
  )
  // Flex Consumption instances have no fixed outbound addresses, so the rule admits every Azure
  // address, other customers' included: the password and TLS are what keep them out. Closing the
  // public endpoint takes VNet integration of the function app (Flex Consumption supports it) and
  // the server's private access or a private endpoint, with a private DNS zone: more parts and cost
  // (a NAT gateway for fixed outbound addresses is the in-between).
  // https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-networking-private
  // https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#enable-virtual-network-integration
  const firewall = new azure.dbforpostgresql.FirewallRule(
    'DatabaseAllowAzure',
    {
      resourceGroupName: args.resourceGroupName,
      serverName: server.name,
      firewallRuleName: ALLOW_AZURE_RULE,
      startIpAddress: '0.0.0.0',
      endIpAddress: '0.0.0.0',
    },
    { dependsOn: [database] },
  )
  // On by default; written out so turning it off shows up as drift.
  // https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-networking-ssl-tls
  const requireTls = new azure.dbforpostgresql.Configuration(
    'DatabaseRequireTls',
    {
      resourceGroupName: args.resourceGroupName,
      serverName: server.name,
      configurationName: 'require_secure_connection',
      value: 'on',
      source: 'user-override',
    },
    { dependsOn: [firewall] },
  )
  // `verify-full`: node-postgres checks the certificate and the host name against Node's CA store,
  // which holds the roots Azure's server certificates chain to (DigiCert Global Root G2, Microsoft
  // RSA Root CA 2017).
  const url = pulumi.secret(
    pulumi
      .all([server.fullyQualifiedDomainName, password])
      .apply(
        ([host, secret]) =>
          `postgres://${DATABASE_ADMIN}:${encodeURIComponent(secret)}@${host}:5432/${DATABASE_NAME}?sslmode=verify-full`,
      ),
  )
  return { server, database, firewall, requireTls, shape, url }
}
