/**
 * Least-privilege IAM: a service account per identity (the function at run time, Pub/Sub pushing to
 * it, the MQTT bridge), and every grant a predefined role on the one resource it is needed on. No
 * grant is on the project: nothing here needs one.
 * https://cloud.google.com/iam/docs/roles-overview
 */
import * as pulumi from '@pulumi/pulumi'
import { type Gcp, type StageArgs, serviceAccountId } from './common.ts'

export function serviceAccounts(gcp: Gcp, args: StageArgs) {
  const account = (logicalName: string, what: string, description: string) =>
    new gcp.serviceaccount.Account(logicalName, {
      accountId: serviceAccountId(args, what),
      displayName: `fleetpipe ${args.stage} ${what}`,
      description,
    })
  return {
    runtime: account('IngestRuntimeAccount', 'ingest', 'The ingest function runs as this account.'),
    invoker: account(
      'IngestInvokerAccount',
      'invoker',
      'Pub/Sub signs its pushes to the ingest function as this account.',
    ),
    bridge: account(
      'BridgeAccount',
      'bridge',
      'The MQTT bridge: publishes device messages to the telemetry topic and pulls commands.',
    ),
  }
}

export type ServiceAccounts = ReturnType<typeof serviceAccounts>

/** The Pub/Sub service agent, Google's account that pushes, retries and dead-letters for the project. */
export function pubsubServiceAgent(projectNumber: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.interpolate`serviceAccount:service-${projectNumber}@gcp-sa-pubsub.iam.gserviceaccount.com`
}

/**
 * What the function calls at run time (functions/gcp/src/deps.ts wires the adapters): it publishes
 * alert transitions and device commands, and reads its database URL when an instance starts. The
 * database itself is reached over its private IP with a password, which IAM does not authorize, so
 * there is no `roles/cloudsql.client` (it serves the Cloud SQL connectors and the `/cloudsql` socket,
 * which the function does not use).
 */
export function runtimeGrants(
  gcp: Gcp,
  args: {
    member: pulumi.Input<string>
    alertsTopic: pulumi.Input<string>
    commandsTopic: pulumi.Input<string>
    databaseUrlSecretId: pulumi.Input<string>
  },
) {
  return {
    // pubsub.topics.publish on the alerts topic: PubSubAlertSink.
    // https://cloud.google.com/pubsub/docs/access-control
    publishAlerts: new gcp.pubsub.TopicIAMMember('IngestPublishesAlerts', {
      topic: args.alertsTopic,
      role: 'roles/pubsub.publisher',
      member: args.member,
    }),
    // pubsub.topics.publish on the commands topic: PubSubCommandPublisher.
    publishCommands: new gcp.pubsub.TopicIAMMember('IngestPublishesCommands', {
      topic: args.commandsTopic,
      role: 'roles/pubsub.publisher',
      member: args.member,
    }),
    // secretmanager.versions.access on the one secret: Cloud Run resolves FLEETPIPE_DATABASE_URL as
    // the function's account when an instance starts, and the deploy checks it may.
    // https://cloud.google.com/functions/docs/configuring/secrets
    readDatabaseUrl: new gcp.secretmanager.SecretIamMember('IngestReadsDatabaseUrl', {
      secretId: args.databaseUrlSecretId,
      role: 'roles/secretmanager.secretAccessor',
      member: args.member,
    }),
  }
}

/**
 * run.routes.invoke on the function's Cloud Run service, for the account Pub/Sub's OIDC tokens name:
 * a gen 2 function is invoked through its service, whose name is the function's.
 * https://cloud.google.com/run/docs/triggering/pubsub-push
 */
export function invokerGrant(
  gcp: Gcp,
  args: { member: pulumi.Input<string>; service: pulumi.Input<string>; location: pulumi.Input<string> },
) {
  return new gcp.cloudrunv2.ServiceIamMember('InvokerInvokesIngest', {
    name: args.service,
    location: args.location,
    role: 'roles/run.invoker',
    member: args.member,
  })
}

/**
 * Dead-lettering is done by the Pub/Sub service agent, which must be able to publish to the
 * dead-letter topic and to acknowledge the message it forwarded on the source subscription; without
 * either, a message that used up its attempts stays on the subscription and is retried.
 * https://cloud.google.com/pubsub/docs/handling-failures
 */
export function deadLetterGrants(
  gcp: Gcp,
  args: {
    projectNumber: pulumi.Input<string>
    deadLetterTopic: pulumi.Input<string>
    subscription: pulumi.Input<string>
  },
) {
  const agent = pubsubServiceAgent(args.projectNumber)
  return {
    publishDeadLetters: new gcp.pubsub.TopicIAMMember('PubsubPublishesDeadLetters', {
      topic: args.deadLetterTopic,
      role: 'roles/pubsub.publisher',
      member: agent,
    }),
    acknowledgeForwarded: new gcp.pubsub.SubscriptionIAMMember('PubsubAcknowledgesForwarded', {
      subscription: args.subscription,
      role: 'roles/pubsub.subscriber',
      member: agent,
    }),
  }
}

/**
 * The MQTT bridge publishes devices' messages to the telemetry topic and pulls the commands it
 * forwards to devices; nothing else. It signs in with a key or workload identity its operator makes
 * for this account (no key is created here, so none sits in the stack's state).
 */
export function bridgeGrants(
  gcp: Gcp,
  args: {
    member: pulumi.Input<string>
    telemetryTopic: pulumi.Input<string>
    commandsSubscription: pulumi.Input<string>
  },
) {
  return {
    publishTelemetry: new gcp.pubsub.TopicIAMMember('BridgePublishesTelemetry', {
      topic: args.telemetryTopic,
      role: 'roles/pubsub.publisher',
      member: args.member,
    }),
    // pubsub.subscriptions.consume on its subscription only: pull and acknowledge commands.
    pullCommands: new gcp.pubsub.SubscriptionIAMMember('BridgePullsCommands', {
      subscription: args.commandsSubscription,
      role: 'roles/pubsub.subscriber',
      member: args.member,
    }),
  }
}
