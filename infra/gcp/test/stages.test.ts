import * as pulumi from '@pulumi/pulumi'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildStages, DATABASE_PASSWORD, PROJECT, REGION, type Stage, value } from './_mocks.ts'

let dev: Stage
let production: Stage

beforeAll(async () => {
  ;({ dev, production } = await buildStages())
})

/**
 * What holds data: the database, and the messages not yet (or never) ingested: the two topics with
 * retention and the two subscriptions that hold a backlog or dead letters.
 */
const DATA = [
  'Database',
  'DeadLetterSubscription',
  'FleetpipeDatabase',
  'IngestSubscription',
  'TelemetryDeadLetterTopic',
  'TelemetryTopic',
]

describe('stages', () => {
  it('protects and retains the data of production only, and nothing else', () => {
    const protectedIn = (stage: Stage) =>
      stage.registrations
        .filter((r) => r.protect)
        .map((r) => r.name)
        .sort()
    expect(protectedIn(production)).toEqual(DATA)
    for (const r of production.registrations.filter((r) => DATA.includes(r.name))) {
      expect(r, r.name).toMatchObject({ protect: true, retainOnDelete: true })
    }
    const rest = production.registrations.filter((r) => !DATA.includes(r.name))
    expect(rest.length).toBeGreaterThanOrEqual(20)
    for (const r of rest) expect(r, r.name).toMatchObject({ protect: false, retainOnDelete: false })
    for (const r of dev.registrations)
      expect(r, r.name).toMatchObject({ protect: false, retainOnDelete: false })
    expect(dev.registrations.map((r) => r.name).sort()).toEqual(
      production.registrations.map((r) => r.name).sort(),
    )
  })

  it('names everything per stage, so two stages share a project', async () => {
    const names = async (stage: Stage) => ({
      topics: await Promise.all(Object.values(stage.edge.topics).map((t) => value(t.name))),
      subscriptions: await Promise.all(Object.values(stage.edge.subscriptions).map((s) => value(s.name))),
      function: await value(stage.edge.function.name),
      database: await value(stage.edge.database.instance.name),
      secret: await value(stage.edge.databaseUrl.secret.secretId),
      bucket: await value(stage.edge.source.bucket?.name ?? ''),
      network: await value(stage.edge.network.network.name),
      subnetwork: await value(stage.edge.network.subnetwork.name),
      servicesRange: await value(stage.edge.network.servicesRange.name),
    })
    expect(await names(dev)).toEqual({
      topics: [
        'fleetpipe-dev-telemetry',
        'fleetpipe-dev-telemetry-dead-letter',
        'fleetpipe-dev-alerts',
        'fleetpipe-dev-commands',
      ],
      subscriptions: [
        'fleetpipe-dev-telemetry-ingest',
        'fleetpipe-dev-telemetry-dead-letter',
        'fleetpipe-dev-commands-bridge',
      ],
      function: 'fleetpipe-dev-ingest',
      database: 'fleetpipe-dev-db',
      secret: 'fleetpipe-dev-database-url',
      bucket: `${PROJECT}-fleetpipe-dev-source`,
      network: 'fleetpipe-dev-network',
      subnetwork: 'fleetpipe-dev-functions',
      servicesRange: 'fleetpipe-dev-services',
    })
    expect(JSON.stringify(await names(production))).toBe(
      JSON.stringify(await names(dev)).replaceAll('fleetpipe-dev-', 'fleetpipe-production-'),
    )
    expect(await value(production.edge.function.labels)).toEqual({ app: 'fleetpipe', stage: 'production' })
  })
})

describe('Cloud SQL', () => {
  it('runs PostgreSQL 16 on a private IP only, requiring TLS, on the stage network', async () => {
    for (const stage of [dev, production]) {
      const { instance } = stage.edge.database
      expect(await value(instance.databaseVersion)).toBe('POSTGRES_16')
      expect(await value(instance.region)).toBe(REGION)
      expect(await value(instance.settings)).toMatchObject({
        edition: 'ENTERPRISE',
        ipConfiguration: {
          ipv4Enabled: false,
          privateNetwork: await value(stage.edge.network.network.id),
          sslMode: 'ENCRYPTED_ONLY',
        },
      })
      expect((await value(instance.settings)).ipConfiguration?.authorizedNetworks).toBeUndefined()
    }
  })

  it('is small and disposable in dev', async () => {
    const { instance } = dev.edge.database
    expect(await value(instance.deletionProtection)).toBe(false)
    expect(await value(instance.settings)).toMatchObject({
      tier: 'db-f1-micro',
      availabilityType: 'ZONAL',
      deletionProtectionEnabled: false,
      backupConfiguration: { enabled: false },
    })
  })

  it('is highly available, backed up with point-in-time recovery, and guarded against deletion in production', async () => {
    const { instance } = production.edge.database
    expect(await value(instance.deletionProtection)).toBe(true)
    expect(await value(instance.settings)).toMatchObject({
      tier: 'db-custom-2-7680',
      availabilityType: 'REGIONAL',
      deletionProtectionEnabled: true,
      retainBackupsOnDelete: true,
      backupConfiguration: {
        enabled: true,
        pointInTimeRecoveryEnabled: true,
        backupRetentionSettings: { retainedBackups: 14, retentionUnit: 'COUNT' },
      },
    })
  })

  it('has the fleetpipe database and user, whose password is the secret it was given', async () => {
    const { database, user, instance } = dev.edge.database
    expect(await value(database.name)).toBe('fleetpipe')
    expect(await value(database.instance)).toBe(await value(instance.name))
    expect(await value(user.name)).toBe('fleetpipe')
    expect(await value(user.type)).toBe('BUILT_IN')
    expect(await value(user.password)).toBe(DATABASE_PASSWORD)
    expect(await pulumi.isSecret(pulumi.output(user.password))).toBe(true)
    // PostgreSQL refuses to drop either while it owns objects or has connections; the instance goes.
    expect(await value(user.deletionPolicy)).toBe('ABANDON')
    expect(await value(database.deletionPolicy)).toBe('ABANDON')
  })
})

describe('the private network', () => {
  it('peers a fixed services range for Cloud SQL and gives the function a subnet in its region', async () => {
    const { network, subnetwork, servicesRange, peering } = dev.edge.network
    expect(await value(network.autoCreateSubnetworks)).toBe(false)
    expect(await value(subnetwork.region)).toBe(REGION)
    expect(await value(subnetwork.ipCidrRange)).toBe('10.8.0.0/24')
    expect(await value(subnetwork.network)).toBe(await value(network.id))
    expect({
      purpose: await value(servicesRange.purpose),
      addressType: await value(servicesRange.addressType),
      address: await value(servicesRange.address),
      prefixLength: await value(servicesRange.prefixLength),
    }).toEqual({ purpose: 'VPC_PEERING', addressType: 'INTERNAL', address: '10.16.0.0', prefixLength: 20 })
    expect(await value(peering.service)).toBe('servicenetworking.googleapis.com')
    expect(await value(peering.reservedPeeringRanges)).toEqual([await value(servicesRange.name)])
  })
})

describe("the function's source", () => {
  it('goes to a private bucket of the stage, emptied on removal (it only holds build input)', async () => {
    const { bucket, object } = dev.edge.source
    expect(await value(bucket?.location ?? '')).toBe(REGION)
    expect(await value(bucket?.uniformBucketLevelAccess ?? false)).toBe(true)
    expect(await value(bucket?.publicAccessPrevention ?? '')).toBe('enforced')
    expect(await value(bucket?.forceDestroy ?? false)).toBe(true)
    expect(await value(object.name)).toBe('fleetpipe-dev-ingest.zip')
    expect(await value(object.contentType)).toBe('application/zip')
  })

  it('goes to the bucket named instead, when there is one, and makes none', async () => {
    const gcp = await import('@pulumi/gcp')
    const { functionSource } = await import('../source.ts')
    const archive = new pulumi.asset.AssetArchive({ 'index.mjs': new pulumi.asset.StringAsset('export {}') })
    const source = functionSource(gcp, {
      app: 'fleetpipe',
      stage: 'shared',
      production: false,
      region: REGION,
      projectId: PROJECT,
      code: { archive, bucket: 'builds-of-the-org' },
    })
    expect(source.bucket).toBeUndefined()
    expect(await value(source.object.bucket)).toBe('builds-of-the-org')
  })
})
