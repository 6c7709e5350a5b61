import { defaultRules } from '@fleetpipe/core'
import * as pulumi from '@pulumi/pulumi'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../functions/gcp/src/config.ts'
import { FUNCTION_NAME } from '../../../functions/gcp/src/register.ts'
import { ADMIN_CONNECTIONS, maxInstances, POOL_MAX } from '../database.ts'
import { databaseUrl } from '../index.ts'
import {
  buildStages,
  DATABASE_IP,
  DATABASE_PASSWORD,
  FUNCTION_TIMEOUT_SECONDS,
  PROJECT,
  SOURCE_GENERATION,
  type Stage,
  value,
} from './_mocks.ts'

let dev: Stage
let production: Stage

beforeAll(async () => {
  ;({ dev, production } = await buildStages())
})

/** The environment an instance sees: the plain variables, and the one Secret Manager resolves. */
async function environmentOf(stage: Stage): Promise<Record<string, string>> {
  const config = await value(stage.edge.function.serviceConfig)
  const secrets = config?.secretEnvironmentVariables ?? []
  expect(secrets).toEqual([
    {
      key: 'FLEETPIPE_DATABASE_URL',
      projectId: PROJECT,
      secret: await value(stage.edge.databaseUrl.secret.secretId),
      version: await value(stage.edge.databaseUrl.version.version),
    },
  ])
  const url = await value(stage.edge.databaseUrl.version.secretData)
  return { ...config?.environmentVariables, FLEETPIPE_DATABASE_URL: String(url) }
}

describe('the ingest function', () => {
  it('runs the bundle on nodejs22 with the entry point functions/gcp registers', async () => {
    const { function: fn, source } = dev.edge
    expect(await value(fn.name)).toBe('fleetpipe-dev-ingest')
    expect(await value(fn.location)).toBe('europe-west1')
    expect(FUNCTION_NAME).toBe('ingest')
    expect(await value(fn.buildConfig)).toEqual({
      runtime: 'nodejs22',
      entryPoint: FUNCTION_NAME,
      source: {
        storageSource: {
          bucket: `${PROJECT}-fleetpipe-dev-source`,
          object: 'fleetpipe-dev-ingest.zip',
          generation: SOURCE_GENERATION,
        },
      },
    })
    expect(await value(source.object.bucket)).toBe(await value(source.bucket?.name ?? ''))
    // Triggered by the push subscription, not by an Eventarc trigger of its own.
    expect(await value(fn.eventTrigger)).toBeUndefined()
  })

  it('runs as its own account, internal ingress only, one request per instance', async () => {
    const config = await value(dev.edge.function.serviceConfig)
    expect(config).toMatchObject({
      serviceAccountEmail: 'fleetpipe-dev-ingest@fleetpipe-test.iam.gserviceaccount.com',
      ingressSettings: 'ALLOW_INTERNAL_ONLY',
      timeoutSeconds: FUNCTION_TIMEOUT_SECONDS,
      availableMemory: '512Mi',
      minInstanceCount: 0,
      maxInstanceRequestConcurrency: 1,
      allTrafficOnLatestRevision: true,
    })
    expect(config?.serviceAccountEmail).toBe(await value(dev.edge.accounts.runtime.email))
    expect(config?.serviceAccountEmail).not.toBe(await value(dev.edge.accounts.invoker.email))
  })

  it('reaches the database through Direct VPC egress on the stage network, private ranges only', async () => {
    const config = await value(dev.edge.function.serviceConfig)
    expect(config?.directVpcNetworkInterfaces).toEqual([
      {
        network: await value(dev.edge.network.network.name),
        subnetwork: await value(dev.edge.network.subnetwork.name),
      },
    ])
    expect(config?.directVpcEgress).toBe('VPC_EGRESS_PRIVATE_RANGES_ONLY')
    expect(config?.vpcConnector).toBeUndefined()
  })

  it('scales no further than the database has connections for, the sweep included', async () => {
    for (const stage of [dev, production]) {
      const config = await value(stage.edge.function.serviceConfig)
      const sweep = await value(stage.edge.sweep.function.serviceConfig)
      const { maxConnections } = stage.edge.database
      const instances = config?.maxInstanceCount ?? Number.POSITIVE_INFINITY
      const sweeps = sweep?.maxInstanceCount ?? Number.POSITIVE_INFINITY
      expect(sweeps).toBe(1)
      expect(instances).toBe(maxInstances(maxConnections) - sweeps)
      expect((instances + sweeps) * POOL_MAX + ADMIN_CONNECTIONS).toBeLessThanOrEqual(maxConnections)
      expect(await value(stage.edge.database.instance.settings)).toMatchObject({
        databaseFlags: [{ name: 'max_connections', value: String(maxConnections) }],
      })
    }
    expect((await value(dev.edge.function.serviceConfig))?.maxInstanceCount).toBe(4)
    expect((await value(production.edge.function.serviceConfig))?.maxInstanceCount).toBe(47)
  })

  it('gets the environment functions/gcp/src/config.ts reads, from the stage resources', async () => {
    for (const stage of [dev, production]) {
      const env = await environmentOf(stage)
      expect(loadConfig(env)).toEqual({
        stage: stage.edge.stage,
        databaseUrl: env.FLEETPIPE_DATABASE_URL,
        alertsTopic: await value(stage.edge.topics.alerts.id),
        webhook: undefined,
        commandsTopic: await value(stage.edge.topics.commands.id),
        rules: defaultRules,
        maxAgeMs: undefined,
      })
      expect(env.FLEETPIPE_ALERTS_TOPIC).toBe(
        `projects/${PROJECT}/topics/fleetpipe-${stage.edge.stage}-alerts`,
      )
    }
  })

  it('keeps the database URL, password included, out of the plain environment', async () => {
    const config = await value(dev.edge.function.serviceConfig)
    expect(Object.keys(config?.environmentVariables ?? {}).sort()).toEqual([
      'FLEETPIPE_ALERTS_TOPIC',
      'FLEETPIPE_COMMANDS_TOPIC',
      'FLEETPIPE_STAGE',
    ])
    expect(JSON.stringify(config)).not.toContain(encodeURIComponent(DATABASE_PASSWORD))
  })

  it('connects to the private IP over TLS as the fleetpipe user, the password escaped', async () => {
    const env = await environmentOf(dev)
    const url = new URL(env.FLEETPIPE_DATABASE_URL ?? '')
    expect(url.protocol).toBe('postgres:')
    expect(url.hostname).toBe(DATABASE_IP)
    expect(url.hostname).toBe(await value(dev.edge.database.instance.privateIpAddress))
    expect(url.port).toBe('5432')
    expect(url.username).toBe('fleetpipe')
    expect(decodeURIComponent(url.password)).toBe(DATABASE_PASSWORD)
    expect(url.pathname).toBe('/fleetpipe')
    expect(url.searchParams.get('sslmode')).toBe('no-verify')
    const secretUrl = databaseUrl({ host: DATABASE_IP, password: 'x' })
    expect(await pulumi.isSecret(secretUrl)).toBe(true)
  })
})
