/** The Azure wiring: PostgreSQL, the SDK clients and the adapters from `@fleetpipe/azure`. The only module that names them. */
import { AzureKeyCredential, EventGridPublisherClient } from '@azure/eventgrid'
import { EventGridAlertSink, IotHubCommandPublisher } from '@fleetpipe/azure'
import { type AlertSink, ConfigError, FanOutAlertSink, systemClock } from '@fleetpipe/core'
import { type Database, type DatabaseOptions, openDatabase } from '@fleetpipe/postgres'
import { WebhookAlertSink } from '@fleetpipe/webhook'
import { Client } from 'azure-iothub'
import { NoRetry } from 'azure-iothub/dist/common-core/retry_policy.js'
import { type AzureConfig, loadConfig } from './config.ts'
import type { EventHubDeps, EventHubHandlerOptions } from './event-hub.ts'

export interface Wiring {
  deps: EventHubDeps
  options: EventHubHandlerOptions
  config: AzureConfig
  database: Database
}

/**
 * The adapters and handler options for this environment. Called once per cold start, so the
 * database pool and the SDK clients (and their connections) are made once and reused by every
 * invocation. `openDatabase` is for tests (e.g. embedded PGlite).
 */
export async function depsFromEnv(
  env: Record<string, string | undefined>,
  { open = openDatabase }: { open?: (options: DatabaseOptions) => Promise<Database> } = {},
): Promise<Wiring> {
  const config = loadConfig(env)
  const alerts = alertSinkFromConfig(config)
  const iotHub = Client.fromConnectionString(config.iotHubServiceConnection)
  // The adapter retries with the core's backoff; the client's own policy would retry each of
  // those attempts for up to 4 minutes more.
  iotHub.setRetryPolicy(new NoRetry())
  const database = await open({ url: config.databaseUrl })
  const deps: EventHubDeps = {
    store: database.telemetry,
    state: database.state,
    quarantine: database.quarantine,
    // The database keeps the alert history the dashboards read; the configured sink tells people.
    alerts: new FanOutAlertSink([database.alerts, alerts]),
    commands: new IotHubCommandPublisher(iotHub),
    clock: systemClock,
  }
  return {
    deps,
    options: { stage: config.stage, rules: config.rules, maxAgeMs: config.maxAgeMs },
    config,
    database,
  }
}

/**
 * The alert sink the configuration names. A new kind of sink is one more `AlertConfig` variant
 * (config.ts) and one more case here; the `never` check makes a missing case a type error.
 */
export function alertSinkFromConfig(config: Pick<AzureConfig, 'alerts' | 'stage'>): AlertSink {
  const { alerts } = config
  switch (alerts.kind) {
    case 'eventgrid': {
      const client = new EventGridPublisherClient(
        alerts.endpoint,
        'CloudEvent',
        new AzureKeyCredential(alerts.key),
        {
          // The sink retries with the core's backoff; the pipeline's own retries would multiply it.
          retryOptions: { maxRetries: 0 },
        },
      )
      return new EventGridAlertSink(client, { stage: config.stage })
    }
    case 'webhook':
      return new WebhookAlertSink({ url: alerts.url, secret: alerts.secret })
    default: {
      const unknown: never = alerts
      throw new ConfigError(`alerts: no sink for kind ${(unknown as { kind?: unknown }).kind}`)
    }
  }
}
