/**
 * The functions: Cloud Run functions (gen 2) running functions/gcp, built by Cloud Build from the
 * uploaded bundle. Ingest is invoked only by the push subscription; the sweep (sweep.ts) is the
 * same bundle with another entry point.
 */
import type * as pulumi from '@pulumi/pulumi'
import { type Gcp, labels, physicalName, type StageArgs } from './common.ts'

export const INGEST_FUNCTION = {
  runtime: 'nodejs22',
  /** functions/gcp/src/register.ts `FUNCTION_NAME`: the name the bundle registers its handler under. */
  entryPoint: 'ingest',
  memory: '512Mi',
  /** The default, written out: Pub/Sub's ack deadline is derived from it. */
  timeoutSeconds: 60,
}

/**
 * Internal only, which Pub/Sub push passes: Cloud Run counts requests from Pub/Sub in the same
 * project as internal even at the public `run.app` URL, so nothing from the internet reaches the
 * function at all. Authentication is required on top (gen 2 functions require it unless `allUsers`
 * is granted the invoker role, which nothing here does): only the invoker account's OIDC tokens pass.
 * https://cloud.google.com/run/docs/securing/ingress
 * https://cloud.google.com/functions/docs/networking/network-settings
 */
export const INGRESS_SETTINGS = 'ALLOW_INTERNAL_ONLY'

/** The database URL's variable, which comes from Secret Manager rather than the plain environment. */
export const DATABASE_URL_VARIABLE = 'FLEETPIPE_DATABASE_URL'

/**
 * The plain variables functions/gcp/src/config.ts reads; FLEETPIPE_DATABASE_URL is a secret variable
 * (see `ingestFunction`). Topics by full name, so they do not depend on the project the client
 * guesses. FLEETPIPE_RULES unset: the core's rules; FLEETPIPE_MAX_AGE_MS unset: PostgreSQL takes any
 * age, and the core's horizon (7 days) applies.
 */
export function ingestEnvironment(args: {
  stage: string
  alertsTopicId: pulumi.Input<string>
  commandsTopicId: pulumi.Input<string>
}): Record<string, pulumi.Input<string>> {
  return {
    FLEETPIPE_STAGE: args.stage,
    FLEETPIPE_ALERTS_TOPIC: args.alertsTopicId,
    FLEETPIPE_COMMANDS_TOPIC: args.commandsTopicId,
  }
}

/** What every function of the bundle is given: the source, its account, environment, secret and network. */
export interface FunctionArgs extends StageArgs {
  region: string
  projectId: pulumi.Input<string>
  source: { bucket: pulumi.Input<string>; object: pulumi.Input<string>; generation: pulumi.Input<number> }
  serviceAccountEmail: pulumi.Input<string>
  environment: Record<string, pulumi.Input<string>>
  databaseUrlSecret: { secretId: pulumi.Input<string>; version: pulumi.Input<string> }
  /** From `directVpcEgress`: the function's path to the database's private IP. */
  vpc: {
    directVpcNetworkInterfaces: { network: pulumi.Input<string>; subnetwork: pulumi.Input<string> }[]
    directVpcEgress: string
  }
  timeoutSeconds: number
  maxInstances: number
  /** The runtime account's grants, the secret's above all: the deploy checks it can be read. */
  dependsOn: pulumi.Resource[]
}

export function ingestFunction(gcp: Gcp, args: FunctionArgs) {
  return bundleFunction(gcp, args, {
    logicalName: 'IngestFunction',
    what: 'ingest',
    description: `fleetpipe ${args.stage}: device telemetry from Pub/Sub into the core`,
    entryPoint: INGEST_FUNCTION.entryPoint,
    ingressSettings: INGRESS_SETTINGS,
  })
}

/**
 * A Cloud Run function (gen 2) built from the uploaded bundle, which registers every entry point
 * functions/gcp has: `entryPoint` picks the one this function runs.
 */
export function bundleFunction(
  gcp: Gcp,
  args: FunctionArgs,
  spec: {
    logicalName: string
    what: string
    description: string
    entryPoint: string
    ingressSettings: string
  },
) {
  return new gcp.cloudfunctionsv2.Function(
    spec.logicalName,
    {
      name: physicalName(args, spec.what),
      location: args.region,
      description: spec.description,
      labels: labels(args),
      buildConfig: {
        runtime: INGEST_FUNCTION.runtime,
        entryPoint: spec.entryPoint,
        source: {
          storageSource: {
            bucket: args.source.bucket,
            object: args.source.object,
            // The object keeps its name across deploys; its generation changes with its content,
            // and with it this field, which is what makes Cloud Functions build again.
            generation: args.source.generation,
          },
        },
      },
      serviceConfig: {
        serviceAccountEmail: args.serviceAccountEmail,
        timeoutSeconds: args.timeoutSeconds,
        availableMemory: INGEST_FUNCTION.memory,
        minInstanceCount: 0,
        // Each instance holds a pool of database connections: see `maxInstances` in database.ts.
        maxInstanceCount: args.maxInstances,
        // One request per instance: the handlers' shape, and the bound on connections above.
        maxInstanceRequestConcurrency: 1,
        ingressSettings: spec.ingressSettings,
        allTrafficOnLatestRevision: true,
        environmentVariables: args.environment,
        secretEnvironmentVariables: [
          {
            key: DATABASE_URL_VARIABLE,
            projectId: args.projectId,
            secret: args.databaseUrlSecret.secretId,
            // Pinned: a new password is a new version, and a new version a new revision.
            version: args.databaseUrlSecret.version,
          },
        ],
        ...args.vpc,
      },
    },
    { dependsOn: args.dependsOn },
  )
}
