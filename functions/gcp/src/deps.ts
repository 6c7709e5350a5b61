/** The GCP wiring: PostgreSQL, the Pub/Sub client and the alert sinks. The only module that names them. */
import { type AlertSink, FanOutAlertSink, type IngestDeps, systemClock } from '@fleetpipe/core'
import { type PublishTopic, PubSubAlertSink, PubSubCommandPublisher } from '@fleetpipe/gcp'
import { type Database, openDatabase } from '@fleetpipe/postgres'
import { WebhookAlertSink } from '@fleetpipe/webhook'
import { PubSub } from '@google-cloud/pubsub'
import { loadConfig } from './config.ts'
import { createLogger } from './logger.ts'
import type { HandlerOptions } from './pubsub.ts'

export interface Wiring {
  deps: IngestDeps
  options: HandlerOptions
  /** Ends the database pool and the Pub/Sub client. */
  close(): Promise<void>
}

/** The platform's clients, for tests to replace: an embedded database, a recording Pub/Sub. */
export interface Clients {
  /** Opens the database and runs the migrations, as `openDatabase` does. */
  openDatabase?: (url: string) => Promise<Database>
  /** What the adapters need of `PubSub`: its topics. */
  pubsub?: { topic(name: string): PublishTopic }
}

/**
 * The adapters and handler options for this environment. Called once per instance, so the pool
 * and the Pub/Sub client are made once and reused by every invocation.
 */
export async function depsFromEnv(
  env: Record<string, string | undefined>,
  clients: Clients = {},
): Promise<Wiring> {
  const config = loadConfig(env)
  const logger = createLogger({ stage: config.stage })
  const db = await (clients.openDatabase ?? ((url: string) => openDatabase({ url })))(config.databaseUrl)
  const pubsub = clients.pubsub ?? new PubSub()
  // The database keeps the alert history the dashboards read; the others tell people.
  const sinks: AlertSink[] = [db.alerts]
  if (config.alertsTopic) sinks.push(new PubSubAlertSink(pubsub.topic(config.alertsTopic)))
  if (config.webhook) sinks.push(new WebhookAlertSink(config.webhook))
  const deps: IngestDeps = {
    store: db.telemetry,
    state: db.state,
    quarantine: db.quarantine,
    alerts: new FanOutAlertSink(sinks),
    commands: new PubSubCommandPublisher(pubsub.topic(config.commandsTopic)),
    clock: systemClock,
  }
  return {
    deps,
    options: { stage: config.stage, rules: config.rules, maxAgeMs: config.maxAgeMs, logger },
    close: async () => {
      await Promise.all([db.close(), pubsub instanceof PubSub ? pubsub.close() : undefined])
    },
  }
}
