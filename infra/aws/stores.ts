/**
 * The stores: Timestream for readings (retention per stage) and DynamoDB for each device's rule
 * and dedupe state. Both are kept in production (see `dataProtection`).
 */
import { type Aws, dataProtection, physicalName, type StageArgs } from './common.ts'

export interface TelemetryRetention {
  memoryStoreHours: number
  magneticStoreDays: number
}

/**
 * Timestream rejects a record older than the memory store's retention, so the function's horizon
 * (FLEETPIPE_MAX_AGE_MS, see `maxAgeMs`) is set to it: an older reading is quarantined with its
 * reason by the core instead. Production holds the core's default horizon (7 days) in memory.
 * https://docs.aws.amazon.com/timestream/latest/developerguide/storage.html
 */
export const TELEMETRY_RETENTION: Record<'dev' | 'production', TelemetryRetention> = {
  dev: { memoryStoreHours: 24, magneticStoreDays: 7 },
  production: { memoryStoreHours: 7 * 24, magneticStoreDays: 5 * 365 },
}

export function maxAgeMs(retention: TelemetryRetention): number {
  return retention.memoryStoreHours * 60 * 60 * 1000
}

export function telemetryStore(aws: Aws, args: StageArgs) {
  const keep = dataProtection(args.production)
  const retention = TELEMETRY_RETENTION[args.production ? 'production' : 'dev']
  // Timestream names allow [a-zA-Z0-9_.-]; these are required, there is no auto-naming.
  const database = new aws.timestreamwrite.Database(
    'TelemetryDatabase',
    { databaseName: physicalName(args, 'telemetry') },
    keep,
  )
  const table = new aws.timestreamwrite.Table(
    'TelemetryTable',
    {
      databaseName: database.databaseName,
      tableName: 'readings',
      retentionProperties: {
        memoryStoreRetentionPeriodInHours: retention.memoryStoreHours,
        magneticStoreRetentionPeriodInDays: retention.magneticStoreDays,
      },
    },
    keep,
  )
  return { database, table, retention }
}

/** The table `DynamoDbStateStore` expects: string partition key `pk`, TTL on `expiresAt`. */
export function stateStore(aws: Aws, args: StageArgs) {
  return new aws.dynamodb.Table(
    'StateTable',
    {
      name: physicalName(args, 'state'),
      billingMode: 'PAY_PER_REQUEST',
      hashKey: 'pk',
      attributes: [{ name: 'pk', type: 'S' }],
      ttl: { attributeName: 'expiresAt', enabled: true },
      // AWS's own guard against a delete, and point-in-time restore, where the state matters.
      deletionProtectionEnabled: args.production,
      pointInTimeRecovery: { enabled: args.production },
    },
    dataProtection(args.production),
  )
}
