/**
 * The GCP edge in one call, since this program creates the function itself: topics, the private
 * network and Cloud SQL, the function built from `buildGcpSource`'s bundle, the push subscription
 * that feeds it with its dead letters kept, the MQTT bridge's account, and the IAM between them.
 *
 * MQTT bridge ─▶ telemetry topic ─push (OIDC)─▶ ingest function ─▶ Cloud SQL (private IP)
 *                      │ after 10 attempts              ├─▶ alerts topic
 *                      ▼                                └─▶ commands topic ─▶ bridge ─▶ devices
 *              dead-letter topic ─▶ dead-letter subscription (kept 7 days, for replay)
 */
import type * as pulumi from '@pulumi/pulumi'
import { type Gcp, gcpContext, type StageArgs } from './common.ts'
import { database, databaseUrl, databaseUrlSecret, maxInstances } from './database.ts'
import { INGEST_FUNCTION, ingestEnvironment, ingestFunction } from './function.ts'
import { bridgeGrants, deadLetterGrants, invokerGrant, runtimeGrants, serviceAccounts } from './iam.ts'
import { directVpcEgress, privateNetwork } from './network.ts'
import { type FunctionCode, functionSource } from './source.ts'
import { commandsSubscription, deadLetterSubscription, ingestSubscription } from './subscription.ts'
import { heartbeatSweep, SWEEP_FUNCTION } from './sweep.ts'
import { pubsubTopics } from './topics.ts'

export {
  BUNDLE_FILE,
  type BuildOptions,
  buildGcpSource,
  RUNTIME_DEPENDENCIES,
  runtimePackageJson,
} from './code.ts'
export {
  DAY_SECONDS,
  dataProtection,
  type Gcp,
  type GcpContext,
  gcpContext,
  labels,
  physicalName,
  type StageArgs,
  serviceAccountId,
} from './common.ts'
export {
  ADMIN_CONNECTIONS,
  DATABASE_NAME,
  DATABASE_TIER,
  DATABASE_USER,
  database,
  databaseTier,
  databaseUrl,
  databaseUrlSecret,
  maxInstances,
  POOL_MAX,
} from './database.ts'
export {
  bundleFunction,
  DATABASE_URL_VARIABLE,
  type FunctionArgs,
  INGEST_FUNCTION,
  INGRESS_SETTINGS,
  ingestEnvironment,
  ingestFunction,
} from './function.ts'
export {
  bridgeGrants,
  deadLetterGrants,
  invokerGrant,
  pubsubServiceAgent,
  runtimeGrants,
  serviceAccounts,
} from './iam.ts'
export { directVpcEgress, NETWORK_RANGES, privateNetwork } from './network.ts'
export { type FunctionCode, functionSource } from './source.ts'
export {
  ackDeadlineSeconds,
  COMMAND_RETENTION_SECONDS,
  commandsSubscription,
  DELIVERY,
  deadLetterSubscription,
  ingestSubscription,
  MAX_ACK_DEADLINE_SECONDS,
  pushEndpoint,
} from './subscription.ts'
export {
  heartbeatSweep,
  SWEEP_FUNCTION,
  SWEEP_INGRESS_SETTINGS,
  SWEEP_RETRY,
  SWEEP_SCHEDULE,
  SWEEP_TIME_ZONE,
} from './sweep.ts'
export { pubsubTopics, TOPIC_RETENTION_SECONDS } from './topics.ts'

export interface GcpEdgeArgs extends StageArgs {
  /** Where the function, the database and the subnet live, e.g. `europe-west1`. */
  region: string
  code: FunctionCode
  /** The database user's password, a secret: e.g. `new sst.Secret('GcpDatabasePassword').value`. */
  databasePassword: pulumi.Input<string>
  /** The function's timeout; Pub/Sub's ack deadline follows it. At most 590 s. */
  functionTimeoutSeconds?: number
}

/**
 * Everything the GCP edge needs, in the provider's project. The project comes from the provider
 * (`gcp:project`), the region from `args`, so the two cannot disagree about where the function is.
 */
export function gcpEdge(gcp: Gcp, args: GcpEdgeArgs) {
  const stage: StageArgs = { app: args.app, stage: args.stage, production: args.production }
  const context = gcpContext(gcp, args.region)
  const timeoutSeconds = args.functionTimeoutSeconds ?? INGEST_FUNCTION.timeoutSeconds

  const topics = pubsubTopics(gcp, stage)
  const accounts = serviceAccounts(gcp, stage)
  const network = privateNetwork(gcp, { ...stage, region: args.region })

  const db = database(gcp, {
    ...stage,
    region: args.region,
    networkId: network.network.id,
    peering: network.peering,
    password: args.databasePassword,
  })
  const url = databaseUrlSecret(gcp, {
    ...stage,
    url: databaseUrl({ host: db.instance.privateIpAddress, password: args.databasePassword }),
  })

  const runtime = runtimeGrants(gcp, {
    member: accounts.runtime.member,
    alertsTopic: topics.alerts.name,
    commandsTopic: topics.commands.name,
    databaseUrlSecretId: url.secret.secretId,
  })
  const source = functionSource(gcp, {
    ...stage,
    region: args.region,
    projectId: context.projectId,
    code: args.code,
  })
  // Both functions run the same bundle, as the same account, with the same settings.
  const bundle = {
    ...stage,
    region: args.region,
    projectId: context.projectId,
    source: {
      bucket: source.object.bucket,
      object: source.object.name,
      generation: source.object.generation,
    },
    serviceAccountEmail: accounts.runtime.email,
    environment: ingestEnvironment({
      stage: args.stage,
      alertsTopicId: topics.alerts.id,
      commandsTopicId: topics.commands.id,
    }),
    databaseUrlSecret: { secretId: url.secret.secretId, version: url.version.version },
    vpc: directVpcEgress(network),
    dependsOn: [runtime.publishAlerts, runtime.publishCommands, runtime.readDatabaseUrl],
  }
  const fn = ingestFunction(gcp, {
    ...bundle,
    timeoutSeconds,
    // The sweep's instances hold pools of the same database's connections.
    maxInstances: maxInstances(db.maxConnections) - SWEEP_FUNCTION.maxInstances,
  })
  const functionUri = fn.serviceConfig.apply((config) => config?.uri ?? '')

  const invoke = invokerGrant(gcp, {
    member: accounts.invoker.member,
    service: fn.name,
    location: fn.location,
  })
  const ingest = ingestSubscription(gcp, {
    ...stage,
    topic: topics.telemetry,
    deadLetterTopicId: topics.deadLetter.id,
    projectId: context.projectId,
    functionUri,
    invokerEmail: accounts.invoker.email,
    functionTimeoutSeconds: timeoutSeconds,
    dependsOn: [invoke],
  })
  const deadLetters = deadLetterSubscription(gcp, { ...stage, deadLetterTopicId: topics.deadLetter.id })
  const deadLettering = deadLetterGrants(gcp, {
    projectNumber: context.projectNumber,
    deadLetterTopic: topics.deadLetter.name,
    subscription: ingest.name,
  })

  const commands = commandsSubscription(gcp, { ...stage, topicId: topics.commands.id })
  const bridge = bridgeGrants(gcp, {
    member: accounts.bridge.member,
    telemetryTopic: topics.telemetry.name,
    commandsSubscription: commands.name,
  })
  const sweep = heartbeatSweep(gcp, bundle)

  return {
    stage: args.stage,
    context,
    topics,
    accounts,
    network,
    database: db,
    databaseUrl: url,
    source,
    function: fn,
    functionUri,
    subscriptions: { ingest, deadLetters, commands },
    iam: { runtime, invoke, deadLettering, bridge },
    sweep,
  }
}

export type GcpEdge = ReturnType<typeof gcpEdge>
