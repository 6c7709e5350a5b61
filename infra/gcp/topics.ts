/**
 * The Pub/Sub topics: devices' messages (from the MQTT bridge), the messages ingest gave up on,
 * alert transitions and device commands. The two that hold messages not yet ingested keep them
 * (topic retention, so a subscription can seek back and replay) and are kept in production.
 */
import {
  DAY_SECONDS,
  dataProtection,
  type Gcp,
  labels,
  physicalName,
  type StageArgs,
  seconds,
} from './common.ts'

/**
 * How long a topic keeps every message it received, acknowledged or not: what a subscription can
 * seek back to after a bad deploy, or a new one can read from the start. Billed as message storage.
 * https://cloud.google.com/pubsub/docs/replay-overview
 */
export const TOPIC_RETENTION_SECONDS = {
  telemetry: { dev: DAY_SECONDS, production: 7 * DAY_SECONDS },
  deadLetter: 7 * DAY_SECONDS,
}

export function pubsubTopics(gcp: Gcp, args: StageArgs) {
  const keep = dataProtection(args.production)
  const tags = labels(args)
  const telemetry = new gcp.pubsub.Topic(
    'TelemetryTopic',
    {
      name: physicalName(args, 'telemetry'),
      labels: tags,
      messageRetentionDuration: seconds(
        TOPIC_RETENTION_SECONDS.telemetry[args.production ? 'production' : 'dev'],
      ),
    },
    keep,
  )
  const deadLetter = new gcp.pubsub.Topic(
    'TelemetryDeadLetterTopic',
    {
      name: physicalName(args, 'telemetry-dead-letter'),
      labels: tags,
      messageRetentionDuration: seconds(TOPIC_RETENTION_SECONDS.deadLetter),
    },
    keep,
  )
  // Alerts and commands hold nothing: each is read by its subscribers (people's channels, the bridge).
  const alerts = new gcp.pubsub.Topic('AlertsTopic', { name: physicalName(args, 'alerts'), labels: tags })
  const commands = new gcp.pubsub.Topic('CommandsTopic', {
    name: physicalName(args, 'commands'),
    labels: tags,
  })
  return { telemetry, deadLetter, alerts, commands }
}

export type PubsubTopics = ReturnType<typeof pubsubTopics>
