import { beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../functions/aws/src/config.ts'
import { ingestEnvironment } from '../index.ts'
import { buildStages, IOT_DATA_HOST, type Stage, value } from './_mocks.ts'

let dev: Stage
let production: Stage

beforeAll(async () => {
  ;({ dev, production } = await buildStages())
})

/** The types that hold data: telemetry, state and messages not yet (or never) ingested. */
const DATA_TYPES = [
  'aws:timestreamwrite/database:Database',
  'aws:timestreamwrite/table:Table',
  'aws:dynamodb/table:Table',
  'aws:sqs/queue:Queue',
  'aws:s3/bucket:Bucket',
]

describe('stages', () => {
  it('keeps telemetry longer in production: memory store hours and magnetic store days', async () => {
    const retention = async (stage: Stage) => value(stage.edge.telemetry.table.retentionProperties)
    expect(await retention(dev)).toEqual({
      memoryStoreRetentionPeriodInHours: 24,
      magneticStoreRetentionPeriodInDays: 7,
    })
    expect(await retention(production)).toEqual({
      memoryStoreRetentionPeriodInHours: 168,
      magneticStoreRetentionPeriodInDays: 1825,
    })
    expect(await value(production.edge.telemetry.table.databaseName)).toBe('fleetpipe-production-telemetry')
  })

  it('protects and retains the data of production only, and nothing else', () => {
    const data = (stage: Stage) => stage.registrations.filter((r) => DATA_TYPES.includes(r.type))
    // Timestream database and table, state table, ingest queue, its DLQ, the rule's error queue.
    expect(
      data(production)
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      'DataBucket',
      'IngestDeadLetterQueue',
      'IngestQueue',
      'IngestRuleErrorQueue',
      'StateTable',
      'TelemetryDatabase',
      'TelemetryTable',
    ])
    for (const r of data(production)) expect(r, r.name).toMatchObject({ protect: true, retainOnDelete: true })
    for (const r of data(dev)) expect(r, r.name).toMatchObject({ protect: false, retainOnDelete: false })
    // Roles, policies, the rule and the event source stay free to be replaced.
    const rest = production.registrations.filter((r) => !DATA_TYPES.includes(r.type))
    expect(rest.length).toBeGreaterThanOrEqual(9)
    for (const r of rest) expect(r, r.name).toMatchObject({ protect: false, retainOnDelete: false })
  })

  it('shapes the state table as DynamoDbStateStore expects, guarded against deletion in production', async () => {
    for (const stage of [dev, production]) {
      const { state } = stage.edge
      expect(await value(state.hashKey)).toBe('pk')
      expect(await value(state.attributes)).toEqual([{ name: 'pk', type: 'S' }])
      expect(await value(state.billingMode)).toBe('PAY_PER_REQUEST')
      expect(await value(state.ttl)).toEqual({ attributeName: 'expiresAt', enabled: true })
    }
    expect(await value(dev.edge.state.deletionProtectionEnabled)).toBe(false)
    expect(await value(production.edge.state.deletionProtectionEnabled)).toBe(true)
    expect(await value(production.edge.state.pointInTimeRecovery)).toEqual({ enabled: true })
  })

  it('keeps the bucket private, expires quarantine by stage, and empties dev buckets on removal', async () => {
    for (const stage of [dev, production]) {
      const { bucket, publicAccess, lifecycle } = stage.edge.data
      expect(await value(bucket.bucketPrefix)).toBe(`fleetpipe-${stage.edge.stage}-data-`)
      expect(await value(publicAccess.bucket)).toBe(await value(bucket.id))
      expect(await value(publicAccess.blockPublicAcls)).toBe(true)
      expect(await value(publicAccess.blockPublicPolicy)).toBe(true)
      expect(await value(publicAccess.ignorePublicAcls)).toBe(true)
      expect(await value(publicAccess.restrictPublicBuckets)).toBe(true)
      expect(await value(lifecycle.rules)).toEqual([
        {
          id: 'expire-quarantine',
          status: 'Enabled',
          filter: { prefix: 'quarantine/' },
          expiration: { days: stage === dev ? 14 : 90 },
        },
      ])
    }
    expect(await value(dev.edge.data.bucket.forceDestroy)).toBe(true)
    expect(await value(production.edge.data.bucket.forceDestroy)).toBe(false)
  })

  it('names everything per stage, so two stages share an account', async () => {
    expect(await value(dev.edge.state.name)).toBe('fleetpipe-dev-state')
    expect(await value(production.edge.state.name)).toBe('fleetpipe-production-state')
    expect(await value(dev.edge.alerts.name)).toBe('fleetpipe-dev-alerts')
    expect(await value(production.edge.rule.rule.name)).toBe('fleetpipe_production_ingest')
  })

  it("gives the function the environment functions/aws/src/config.ts reads, from the stage's resources", async () => {
    for (const stage of [dev, production]) {
      const env = await value(ingestEnvironment(stage.edge))
      const config = loadConfig(env)
      expect(config).toMatchObject({
        stage: stage.edge.stage,
        timestream: {
          database: await value(stage.edge.telemetry.database.databaseName),
          table: 'readings',
        },
        stateTable: await value(stage.edge.state.name),
        alertTopicArn: await value(stage.edge.alerts.arn),
        quarantineBucket: await value(stage.edge.data.bucket.bucket),
        iotDataEndpoint: `https://${IOT_DATA_HOST}`,
        // The horizon is what the memory store accepts.
        maxAgeMs: stage.edge.telemetry.retention.memoryStoreHours * 3_600_000,
      })
    }
    expect((await value(ingestEnvironment(production.edge))).FLEETPIPE_MAX_AGE_MS).toBe(
      String(7 * 24 * 3_600_000),
    )
  })
})
