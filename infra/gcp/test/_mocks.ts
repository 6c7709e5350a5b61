/**
 * The GCP edge under Pulumi mocks, no CLI and no cloud: resources echo their inputs back with the
 * ids and outputs GCP would give them (full resource names, emails, the function's URL, the
 * database's private IP), the project lookup answers for one project, and every registration is
 * recorded with the options Pulumi would send the engine (`protect`, `retainOnDelete`), which the
 * mocks' `newResource` never sees.
 */
import * as pulumi from '@pulumi/pulumi'
import { type Registration, recordRegistrations, resourcesIn, value } from '../../test/pulumi-mocks.ts'

export const PROJECT = 'fleetpipe-test'
export const PROJECT_NUMBER = '123456789012'
export const REGION = 'europe-west1'
export const FUNCTION_TIMEOUT_SECONDS = 60
export const DATABASE_IP = '10.16.0.3'
/** Characters a URL must escape, to see the password reach the URL intact. */
export const DATABASE_PASSWORD = 'p@ss:w/rd?#%&'
export const SOURCE_GENERATION = 1_732_400_000_000_000

export const runUri = (functionName: string) => `https://${functionName}-a1b2c3d4e5-ew.a.run.app`

const registrations: Registration[] = []

type State = Record<string, unknown>

/** What GCP adds to a resource's inputs, by type. */
function outputsOf(type: string, inputs: State): { id: string; state: State } {
  const name = typeof inputs.name === 'string' ? inputs.name : undefined
  switch (type) {
    case 'gcp:pubsub/topic:Topic':
      return { id: `projects/${PROJECT}/topics/${name}`, state: {} }
    case 'gcp:pubsub/subscription:Subscription':
      return { id: `projects/${PROJECT}/subscriptions/${name}`, state: {} }
    case 'gcp:serviceaccount/account:Account': {
      const email = `${inputs.accountId}@${PROJECT}.iam.gserviceaccount.com`
      return {
        id: `projects/${PROJECT}/serviceAccounts/${email}`,
        state: {
          email,
          member: `serviceAccount:${email}`,
          name: `projects/${PROJECT}/serviceAccounts/${email}`,
        },
      }
    }
    case 'gcp:cloudfunctionsv2/function:Function': {
      const serviceConfig = {
        ...(inputs.serviceConfig as State),
        uri: runUri(String(name)),
        service: `projects/${PROJECT}/locations/${REGION}/services/${name}`,
      }
      return {
        id: `projects/${PROJECT}/locations/${REGION}/functions/${name}`,
        state: { serviceConfig, url: `https://${REGION}-${PROJECT}.cloudfunctions.net/${name}` },
      }
    }
    case 'gcp:sql/databaseInstance:DatabaseInstance':
      return {
        id: String(name),
        state: { connectionName: `${PROJECT}:${REGION}:${name}`, privateIpAddress: DATABASE_IP },
      }
    case 'gcp:secretmanager/secret:Secret':
      return {
        id: `projects/${PROJECT}/secrets/${inputs.secretId}`,
        state: { name: `projects/${PROJECT_NUMBER}/secrets/${inputs.secretId}` },
      }
    case 'gcp:secretmanager/secretVersion:SecretVersion':
      return {
        id: `${inputs.secret}/versions/1`,
        state: { version: '1', name: `${inputs.secret}/versions/1` },
      }
    case 'gcp:storage/bucketObject:BucketObject':
      return { id: `${inputs.bucket}-${name}`, state: { generation: SOURCE_GENERATION } }
    case 'gcp:compute/network:Network':
      return { id: `projects/${PROJECT}/global/networks/${name}`, state: {} }
    case 'gcp:compute/subnetwork:Subnetwork':
      return { id: `projects/${PROJECT}/regions/${REGION}/subnetworks/${name}`, state: {} }
    default:
      return { id: `${type.split(':')[2] ?? type}-${name ?? 'unnamed'}`, state: {} }
  }
}

async function setMocks(): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs }) => {
        const { id, state } = outputsOf(type, { ...inputs, name: inputs.name ?? name })
        return { id, state: { ...inputs, ...state } }
      },
      call: ({ token, inputs }) => {
        if (token === 'gcp:organizations/getProject:getProject') {
          return { ...inputs, projectId: PROJECT, number: PROJECT_NUMBER }
        }
        return inputs
      },
    },
    'fleetpipe',
    'test',
  )
  recordRegistrations(registrations)
}

async function buildStage(
  gcp: typeof import('@pulumi/gcp'),
  infra: typeof import('../index.ts'),
  stage: string,
) {
  const edge = infra.gcpEdge(gcp, {
    app: 'fleetpipe',
    stage,
    production: stage === 'production',
    region: REGION,
    code: {
      archive: new pulumi.asset.AssetArchive({ 'index.mjs': new pulumi.asset.StringAsset('export {}') }),
    },
    databasePassword: pulumi.secret(DATABASE_PASSWORD),
    functionTimeoutSeconds: FUNCTION_TIMEOUT_SECONDS,
  })
  // Every resource registered (its URN known) before the next stage's registrations start.
  const resources = resourcesIn(edge)
  await Promise.all(resources.map((resource) => value(resource.urn)))
  return { edge, resources, registrations: registrations.splice(0) }
}

export type Stage = Awaited<ReturnType<typeof buildStage>>

/**
 * Mocks first, then the modules under test, then one program per stage. The stages share logical
 * names: the mock monitor, unlike the engine, does not refuse a repeated URN.
 */
export async function buildStages(): Promise<{ dev: Stage; production: Stage }> {
  await setMocks()
  const gcp = await import('@pulumi/gcp')
  const infra = await import('../index.ts')
  const dev = await buildStage(gcp, infra, 'dev')
  const production = await buildStage(gcp, infra, 'production')
  return { dev, production }
}

/** A resource's URN type, e.g. `gcp:pubsub/topic:Topic`. */
export async function typeOf(resource: pulumi.Resource): Promise<string> {
  const urn = await value(resource.urn)
  return urn.split('::')[2]?.split('$').pop() ?? ''
}

export { type Registration, resourcesIn, value }
