import { EventGridAlertSink, IotHubCommandPublisher } from '@fleetpipe/azure'
import { defaultRules, FanOutAlertSink } from '@fleetpipe/core'
import {
  type DatabaseOptions,
  openDatabase,
  PostgresAlertSink,
  PostgresQuarantine,
  PostgresTelemetryStore,
} from '@fleetpipe/postgres'
import { WebhookAlertSink } from '@fleetpipe/webhook'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { alertSinkFromConfig, depsFromEnv, type Wiring } from '../src/deps.ts'
import { createEventHubHandler } from '../src/event-hub.ts'
import { contextFor, loadBatch } from './_events.ts'

const env = {
  FLEETPIPE_STAGE: 'dev',
  FLEETPIPE_DATABASE_URL: 'postgres://fleetpipe@fleetpipe-dev.postgres.database.azure.com:5432/fleetpipe',
  FLEETPIPE_EVENTGRID_ENDPOINT: 'https://fleetpipe-dev-alerts.westeurope-1.eventgrid.azure.net/api/events',
  FLEETPIPE_EVENTGRID_KEY: 'ZXZlbnQtZ3JpZC1rZXk=',
  FLEETPIPE_IOTHUB_SERVICE_CONNECTION:
    'HostName=fleetpipe-dev.azure-devices.net;SharedAccessKeyName=service;SharedAccessKey=c2VydmljZS1rZXk=',
  IOTHUB_EVENTS:
    'Endpoint=sb://ihsuprodamres001dednamespace.servicebus.windows.net/;SharedAccessKeyName=iothubowner;SharedAccessKey=b3duZXIta2V5;EntityPath=fleetpipe-dev',
  EVENTHUB_NAME: 'fleetpipe-dev',
}

// One embedded PGlite, standing in for the server the URL names, for the whole file: it takes seconds to start.
const opened: DatabaseOptions[] = []
let wiring: Wiring

beforeAll(async () => {
  wiring = await depsFromEnv(env, {
    open: (options) => {
      opened.push(options)
      return openDatabase({})
    },
  })
}, 30_000)

afterAll(async () => {
  await wiring?.database.close()
})

describe('the Azure wiring', () => {
  it('opens the database named by the settings and builds the Azure adapters, connecting to nothing else', () => {
    const { deps, options } = wiring
    expect(opened).toEqual([{ url: env.FLEETPIPE_DATABASE_URL }])
    expect(Object.keys(deps).sort()).toEqual(['alerts', 'clock', 'commands', 'quarantine', 'state', 'store'])
    expect(deps.store).toBeInstanceOf(PostgresTelemetryStore)
    expect(deps.state).toBe(wiring.database.state)
    expect(deps.quarantine).toBeInstanceOf(PostgresQuarantine)
    // The alert history in the database first, then Event Grid for people.
    expect(deps.alerts).toBeInstanceOf(FanOutAlertSink)
    const [history, eventGrid, ...rest] = (deps.alerts as FanOutAlertSink).sinks
    expect(history).toBeInstanceOf(PostgresAlertSink)
    expect(eventGrid).toBeInstanceOf(EventGridAlertSink)
    expect(rest).toEqual([])
    expect(deps.commands).toBeInstanceOf(IotHubCommandPublisher)
    expect(options).toEqual({ stage: 'dev', rules: defaultRules, maxAgeMs: undefined })
  })

  it('ingests into PostgreSQL, with refused messages in its quarantine', async () => {
    const handler = createEventHubHandler(wiring.deps, wiring.options)
    const batch = loadBatch('event-hub/status-online.json')

    expect(await handler(batch.messages, contextFor(batch))).toMatchObject({ stored: 1, statuses: 1 })
    const mixed = loadBatch('event-hub/batch-mixed.json')
    const invalid = {
      messages: mixed.messages.slice(3, 4),
      triggerMetadata: sliceMetadata(mixed.triggerMetadata, 3),
    }
    expect(await handler(invalid.messages, contextFor(invalid))).toMatchObject({ quarantined: 1 })
    expect(await wiring.database.quarantine.list()).toMatchObject([
      { reason: 'invalid_json', deviceId: 'esp32-0003', source: 'azure-iothub', raw: mixed.messages[3] },
    ])
  })

  it('sends alerts to a signed webhook instead of Event Grid when the settings name one', () => {
    const sink = alertSinkFromConfig({
      stage: 'dev',
      alerts: { kind: 'webhook', url: 'https://alerts.example/fleetpipe', secret: 's'.repeat(32) },
    })
    expect(sink).toBeInstanceOf(WebhookAlertSink)
  })
})

/** The metadata of one message of a batch, as a batch of one. */
function sliceMetadata(metadata: Record<string, unknown>, i: number): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(metadata).map(([key, value]) => [
      key,
      Array.isArray(value) ? value.slice(i, i + 1) : value,
    ]),
  )
}
