/**
 * How messages reach the function, and what happens to those it cannot take.
 *
 * An explicit push subscription rather than an Eventarc trigger (`eventTrigger` on the function):
 * Eventarc creates and owns the trigger's subscription and exposes no dead-letter policy for it,
 * only "retry or not", so a message that keeps failing is retried for the whole retention period
 * and then lost. Our own subscription gets a retry policy with exponential backoff, a dead-letter
 * topic after a bounded number of attempts, and a pull subscription there that keeps what failed for
 * replay. Google now recommends this direct Pub/Sub trigger where Eventarc's routing is not needed.
 * https://cloud.google.com/functions/docs/calling/pubsub
 * https://cloud.google.com/pubsub/docs/handling-failures
 */
import * as pulumi from '@pulumi/pulumi'
import {
  DAY_SECONDS,
  dataProtection,
  type Gcp,
  labels,
  physicalName,
  type StageArgs,
  seconds,
} from './common.ts'

export const DELIVERY = {
  /** Pub/Sub's exponential backoff between redeliveries of a message the function failed (non-2xx). */
  minimumBackoffSeconds: 10,
  maximumBackoffSeconds: 600,
  /**
   * After this many attempts (about 40 minutes with the backoff above) the message goes to the
   * dead-letter topic. A 429 from a function at its instance limit counts as an attempt too.
   * https://cloud.google.com/pubsub/docs/handling-failures
   */
  maxDeliveryAttempts: 10,
  /** Unacknowledged messages wait this long while the function is down. */
  retentionSeconds: 7 * DAY_SECONDS,
  /** What failed is kept this long on the dead-letter subscription, for replay. */
  deadLetterRetentionSeconds: 7 * DAY_SECONDS,
  /** Time for a cold start, which the function's timeout does not count. */
  ackMarginSeconds: 10,
}

/** Pub/Sub's longest acknowledgement deadline. */
export const MAX_ACK_DEADLINE_SECONDS = 600

/**
 * For a push subscription the ack deadline is how long Pub/Sub waits for the HTTP answer: shorter
 * than the function's timeout, Pub/Sub would redeliver a message still being processed.
 * https://cloud.google.com/pubsub/docs/push
 */
export function ackDeadlineSeconds(functionTimeoutSeconds: number): number {
  const deadline = functionTimeoutSeconds + DELIVERY.ackMarginSeconds
  if (deadline > MAX_ACK_DEADLINE_SECONDS) {
    throw new Error(
      `function timeout ${functionTimeoutSeconds} s: Pub/Sub's ack deadline is at most ${MAX_ACK_DEADLINE_SECONDS} s, so the timeout must be at most ${MAX_ACK_DEADLINE_SECONDS - DELIVERY.ackMarginSeconds} s`,
    )
  }
  return deadline
}

/**
 * The function's URL with the topic as its path: the functions-framework turns a raw push body into
 * the `messagePublished` CloudEvent the handler takes, and names the event's source from this path
 * (without it, it logs a warning on every message).
 * https://github.com/GoogleCloudPlatform/functions-framework-nodejs/blob/main/src/pubsub_middleware.ts
 */
export function pushEndpoint(
  functionUri: pulumi.Input<string>,
  topic: { projectId: pulumi.Input<string>; name: pulumi.Input<string> },
): pulumi.Output<string> {
  return pulumi.interpolate`${functionUri}/projects/${topic.projectId}/topics/${topic.name}`
}

/** A subscription nobody reads for 31 days is deleted, unless it is told never to expire. */
const NEVER_EXPIRE = { ttl: '' }

/**
 * The telemetry topic's push subscription to the function, signed with an OIDC token of the invoker
 * account (the function requires authentication). `dependsOn` takes the invoker's grant, so the
 * first pushes are not refused.
 * https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions
 */
export function ingestSubscription(
  gcp: Gcp,
  args: StageArgs & {
    topic: { id: pulumi.Input<string>; name: pulumi.Input<string> }
    deadLetterTopicId: pulumi.Input<string>
    projectId: pulumi.Input<string>
    functionUri: pulumi.Input<string>
    invokerEmail: pulumi.Input<string>
    functionTimeoutSeconds: number
    dependsOn: pulumi.Resource[]
  },
) {
  return new gcp.pubsub.Subscription(
    'IngestSubscription',
    {
      name: physicalName(args, 'telemetry-ingest'),
      topic: args.topic.id,
      labels: labels(args),
      ackDeadlineSeconds: ackDeadlineSeconds(args.functionTimeoutSeconds),
      messageRetentionDuration: seconds(DELIVERY.retentionSeconds),
      expirationPolicy: NEVER_EXPIRE,
      pushConfig: {
        pushEndpoint: pushEndpoint(args.functionUri, { projectId: args.projectId, name: args.topic.name }),
        oidcToken: {
          serviceAccountEmail: args.invokerEmail,
          // The service's URL, which Cloud Run accepts as the audience; by default Pub/Sub would
          // use the whole endpoint, path included.
          audience: args.functionUri,
        },
      },
      retryPolicy: {
        minimumBackoff: seconds(DELIVERY.minimumBackoffSeconds),
        maximumBackoff: seconds(DELIVERY.maximumBackoffSeconds),
      },
      deadLetterPolicy: {
        deadLetterTopic: args.deadLetterTopicId,
        maxDeliveryAttempts: DELIVERY.maxDeliveryAttempts,
      },
    },
    { ...dataProtection(args.production), dependsOn: args.dependsOn },
  )
}

/**
 * A pull subscription on the dead-letter topic: a topic without a subscription drops what it is
 * sent, so this is what keeps the dead letters until someone pulls them to look or to republish
 * them to the telemetry topic.
 */
export function deadLetterSubscription(
  gcp: Gcp,
  args: StageArgs & { deadLetterTopicId: pulumi.Input<string> },
) {
  return new gcp.pubsub.Subscription(
    'DeadLetterSubscription',
    {
      name: physicalName(args, 'telemetry-dead-letter'),
      topic: args.deadLetterTopicId,
      labels: labels(args),
      ackDeadlineSeconds: 60,
      messageRetentionDuration: seconds(DELIVERY.deadLetterRetentionSeconds),
      expirationPolicy: NEVER_EXPIRE,
    },
    dataProtection(args.production),
  )
}

/** Commands older than this are dropped rather than sent to a device that reconnects late. */
export const COMMAND_RETENTION_SECONDS = DAY_SECONDS

/**
 * The MQTT bridge's pull subscription on the commands topic: it forwards each message to
 * `fleet/{deviceId}/commands`. Without it, commands published while nothing subscribes are lost.
 */
export function commandsSubscription(gcp: Gcp, args: StageArgs & { topicId: pulumi.Input<string> }) {
  return new gcp.pubsub.Subscription('CommandsSubscription', {
    name: physicalName(args, 'commands-bridge'),
    topic: args.topicId,
    labels: labels(args),
    ackDeadlineSeconds: 60,
    messageRetentionDuration: seconds(COMMAND_RETENTION_SECONDS),
    expirationPolicy: NEVER_EXPIRE,
  })
}
