/**
 * The AWS edge under Pulumi mocks, no CLI and no cloud: resources echo their inputs back with an
 * ARN (and a URL for queues), invokes answer for one account and region, and every registration is
 * recorded with the options Pulumi would send the engine (`protect`, `retainOnDelete`), which the
 * mocks' `newResource` never sees.
 */
import * as pulumi from '@pulumi/pulumi'
import { type Registration, recordRegistrations, resourcesIn, value } from '../../test/pulumi-mocks.ts'

export const ACCOUNT = '123456789012'
export const REGION = 'eu-west-1'
export const FUNCTION_TIMEOUT_SECONDS = 30
export const IOT_DATA_HOST = 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com'

/** `aws:sqs/queue:Queue` → `sqs`. */
const serviceOf = (type: string) => type.split(':')[1]?.split('/')[0] ?? 'unknown'

const registrations: Registration[] = []

async function setMocks(): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs: given }) => {
        let inputs = given
        // A bucket named by prefix gets a suffix, as Pulumi's auto-naming gives it.
        if (type === 'aws:s3/bucket:Bucket' && typeof inputs.bucketPrefix === 'string')
          inputs = { ...inputs, bucket: `${inputs.bucketPrefix}0a1b2c3` }
        const physical =
          typeof inputs.name === 'string'
            ? inputs.name
            : typeof inputs.bucket === 'string'
              ? inputs.bucket
              : name
        const state: Record<string, unknown> = {
          ...inputs,
          // An EventTarget's `arn` is an input (what it targets), which the mock keeps.
          arn:
            typeof inputs.arn === 'string'
              ? inputs.arn
              : `arn:aws:${serviceOf(type)}:${REGION}:${ACCOUNT}:${physical}`,
        }
        if (type === 'aws:sqs/queue:Queue')
          state.url = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physical}`
        return { id: `${name}_id`, state }
      },
      call: ({ token, inputs }) => {
        switch (token) {
          case 'aws:index/getPartition:getPartition':
            return { ...inputs, partition: 'aws' }
          case 'aws:index/getRegion:getRegion':
            return { ...inputs, name: REGION, region: REGION }
          case 'aws:index/getCallerIdentity:getCallerIdentity':
            return { ...inputs, accountId: ACCOUNT }
          case 'aws:iot/getEndpoint:getEndpoint':
            return { ...inputs, endpointAddress: IOT_DATA_HOST }
          default:
            return inputs
        }
      },
    },
    'fleetpipe',
    'test',
  )
  recordRegistrations(registrations)
}

async function buildStage(
  aws: typeof import('@pulumi/aws'),
  infra: typeof import('../index.ts'),
  stage: string,
) {
  const edge = infra.awsEdge(aws, {
    app: 'fleetpipe',
    stage,
    production: stage === 'production',
    functionTimeoutSeconds: FUNCTION_TIMEOUT_SECONDS,
  })
  const fn = {
    functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:fleetpipe-${stage}-Ingest`,
    functionRoleName: `fleetpipe-${stage}-IngestRole`,
  }
  const ingest = infra.awsIngest(aws, edge, fn)
  // The functions sst.config.ts would make, as the ARNs and role names SST gives them.
  const functionEnvironments: Record<string, Record<string, pulumi.Input<string>>> = {}
  const lambda = (name: string, environment: Record<string, pulumi.Input<string>>) => {
    functionEnvironments[name] = environment
    return {
      functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:fleetpipe-${stage}-${name}`,
      functionRoleName: `fleetpipe-${stage}-${name}Role`,
    }
  }
  const retrain = infra.awsRetrain(aws, edge, {
    app: 'fleetpipe',
    taskFunction: (task, environment) => lambda(`Retrain${task}`, environment),
    triggerFunction: (environment) => lambda('RetrainTrigger', environment),
  })
  // Every resource registered (its URN known) before the next stage's registrations start.
  await Promise.all(resourcesIn({ edge, ingest, retrain }).map((resource) => value(resource.urn)))
  return { edge, ingest, fn, retrain, functionEnvironments, registrations: registrations.splice(0) }
}

export type Stage = Awaited<ReturnType<typeof buildStage>>

/**
 * Mocks first, then the modules under test, then one program per stage. The stages share logical
 * names: the mock monitor, unlike the engine, does not refuse a repeated URN.
 */
export async function buildStages(): Promise<{ dev: Stage; production: Stage }> {
  await setMocks()
  const aws = await import('@pulumi/aws')
  const infra = await import('../index.ts')
  const dev = await buildStage(aws, infra, 'dev')
  const production = await buildStage(aws, infra, 'production')
  return { dev, production }
}

export interface Statement {
  Sid?: string
  Effect: string
  Action: string | string[]
  Resource?: string | string[]
  Principal?: unknown
  Condition?: Record<string, Record<string, string>>
}

/** A policy document's statements, from the JSON the resource was given. */
export async function statementsOf(document: pulumi.Input<string>): Promise<Statement[]> {
  const parsed = JSON.parse(await value(document)) as { Version: string; Statement: Statement[] }
  if (parsed.Version !== '2012-10-17') throw new Error(`policy version ${parsed.Version}`)
  return parsed.Statement
}

export const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value]

export { type Registration, resourcesIn, value }
