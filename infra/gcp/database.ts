/**
 * Cloud SQL for PostgreSQL, the GCP store of packages/postgres (telemetry, state, quarantine,
 * alerts): one instance per stage on a private IP only, its `fleetpipe` database and user, and the
 * connection URL the function reads, kept in Secret Manager.
 */
import * as pulumi from '@pulumi/pulumi'
import { dataProtection, type Gcp, labels, physicalName, type StageArgs } from './common.ts'

export const DATABASE_NAME = 'fleetpipe'
export const DATABASE_USER = 'fleetpipe'

/** packages/postgres/src/database.ts: each function instance opens a pool of up to 4 connections. */
export const POOL_MAX = 4
/** Left for PostgreSQL's superuser reserve and a person's psql session. */
export const ADMIN_CONNECTIONS = 5

/**
 * Dev: shared core, the cheapest tier (no SLA). Production: 2 vCPU and 7.5 GB, doubled by high
 * availability. `max_connections` is set, not left to the tier's default, because the function's
 * instance limit is derived from it (see `maxInstances`).
 * https://cloud.google.com/sql/docs/postgres/instance-settings
 * https://cloud.google.com/sql/docs/quotas
 */
export const DATABASE_TIER = {
  dev: { tier: 'db-f1-micro', maxConnections: 25 },
  production: { tier: 'db-custom-2-7680', maxConnections: 200 },
}

/** As many function instances as the database has connections for, each with a full pool. */
export function maxInstances(maxConnections: number): number {
  return Math.floor((maxConnections - ADMIN_CONNECTIONS) / POOL_MAX)
}

export function databaseTier(args: Pick<StageArgs, 'production'>) {
  return DATABASE_TIER[args.production ? 'production' : 'dev']
}

/**
 * The instance, its database and user. Production runs highly available (a standby in another zone)
 * with daily backups and point-in-time recovery, and is guarded three ways: Cloud SQL's own deletion
 * protection, the provider's `deletionProtection`, and `dataProtection`. A deleted instance's name
 * cannot be reused for about a week.
 */
export function database(
  gcp: Gcp,
  args: StageArgs & {
    region: string
    /** The network whose private services range the instance takes its IP from. */
    networkId: pulumi.Input<string>
    /** The peering that range needs: the instance cannot be created before it. */
    peering: pulumi.Resource
    /** The user's password: a secret, e.g. an SST Secret's value. */
    password: pulumi.Input<string>
  },
) {
  const keep = dataProtection(args.production)
  const { tier, maxConnections } = databaseTier(args)
  const instance = new gcp.sql.DatabaseInstance(
    'Database',
    {
      name: physicalName(args, 'db'),
      region: args.region,
      databaseVersion: 'POSTGRES_16',
      deletionProtection: args.production,
      settings: {
        // Explicit: new PostgreSQL 16 instances may default to Enterprise Plus, which has no
        // shared-core tier. https://cloud.google.com/sql/docs/editions-intro
        edition: 'ENTERPRISE',
        tier,
        availabilityType: args.production ? 'REGIONAL' : 'ZONAL',
        diskType: 'PD_SSD',
        diskSize: 10,
        diskAutoresize: true,
        deletionProtectionEnabled: args.production,
        retainBackupsOnDelete: args.production,
        backupConfiguration: args.production
          ? {
              enabled: true,
              pointInTimeRecoveryEnabled: true,
              startTime: '02:00',
              transactionLogRetentionDays: 7,
              backupRetentionSettings: { retainedBackups: 14, retentionUnit: 'COUNT' },
            }
          : { enabled: false },
        ipConfiguration: {
          ipv4Enabled: false,
          privateNetwork: args.networkId,
          // TLS required of every client; the function connects with `sslmode=no-verify`.
          // https://cloud.google.com/sql/docs/postgres/configure-ssl-instance
          sslMode: 'ENCRYPTED_ONLY',
        },
        databaseFlags: [{ name: 'max_connections', value: String(maxConnections) }],
        userLabels: labels(args),
      },
    },
    { ...keep, dependsOn: [args.peering] },
  )
  const db = new gcp.sql.Database(
    'FleetpipeDatabase',
    {
      name: DATABASE_NAME,
      instance: instance.name,
      // Cloud SQL will not drop a database the function's pool is connected to; the instance's own
      // deletion removes it.
      deletionPolicy: 'ABANDON',
    },
    keep,
  )
  const user = new gcp.sql.User('DatabaseUser', {
    name: DATABASE_USER,
    instance: instance.name,
    type: 'BUILT_IN',
    password: args.password,
    // The user owns the tables its migrations create, and PostgreSQL will not drop a role that owns
    // objects. https://www.pulumi.com/registry/packages/gcp/api-docs/sql/user/
    deletionPolicy: 'ABANDON',
  })
  return { instance, database: db, user, tier, maxConnections }
}

export type Database = ReturnType<typeof database>

/**
 * The URL functions/gcp/src/config.ts takes (FLEETPIPE_DATABASE_URL), over the private IP. TLS
 * without verification (`no-verify`, libpq's `require`): the server's certificate is signed by the
 * instance's own CA, which pg would need as a file, and the path is private to the VPC.
 * https://github.com/brianc/node-postgres/tree/master/packages/pg-connection-string
 */
export function databaseUrl(args: {
  host: pulumi.Input<string>
  password: pulumi.Input<string>
}): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([args.host, args.password])
      .apply(
        ([host, password]) =>
          `postgres://${DATABASE_USER}:${encodeURIComponent(password)}@${host}:5432/${DATABASE_NAME}?sslmode=no-verify`,
      ),
  )
}

/**
 * The URL, password included, in Secret Manager: the function gets it as an environment variable
 * resolved when an instance starts, so it is not in the function's configuration for every viewer
 * to read (config.ts: "Keep the password in Secret Manager").
 * https://cloud.google.com/functions/docs/configuring/secrets
 */
export function databaseUrlSecret(gcp: Gcp, args: StageArgs & { url: pulumi.Input<string> }) {
  const secret = new gcp.secretmanager.Secret('DatabaseUrlSecret', {
    secretId: physicalName(args, 'database-url'),
    replication: { auto: {} },
    labels: labels(args),
  })
  const version = new gcp.secretmanager.SecretVersion('DatabaseUrlSecretVersion', {
    secret: secret.id,
    secretData: args.url,
  })
  return { secret, version }
}
