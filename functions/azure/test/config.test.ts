import { ConfigError, defaultRules } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'

const env = {
  FLEETPIPE_STAGE: 'dev',
  FLEETPIPE_DATABASE_URL:
    'postgres://fleetpipe:secret@fleetpipe-dev.postgres.database.azure.com:5432/fleetpipe',
  FLEETPIPE_EVENTGRID_ENDPOINT: 'https://fleetpipe-dev-alerts.westeurope-1.eventgrid.azure.net/api/events',
  FLEETPIPE_EVENTGRID_KEY: 'ZXZlbnQtZ3JpZC1rZXk=',
  FLEETPIPE_IOTHUB_SERVICE_CONNECTION:
    'HostName=fleetpipe-dev.azure-devices.net;SharedAccessKeyName=service;SharedAccessKey=c2VydmljZS1rZXk=',
  IOTHUB_EVENTS:
    'Endpoint=sb://ihsuprodamres001dednamespace.servicebus.windows.net/;SharedAccessKeyName=iothubowner;SharedAccessKey=b3duZXIta2V5;EntityPath=fleetpipe-dev',
  EVENTHUB_NAME: 'fleetpipe-dev',
}

function problems(vars: Record<string, string | undefined>): string {
  try {
    loadConfig(vars)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('expected a ConfigError')
}

describe('function app configuration', () => {
  it('reads the app settings into a typed object, with the default rules and consumer group', () => {
    expect(loadConfig({ ...env, FLEETPIPE_MAX_AGE_MS: '3600000' })).toEqual({
      stage: 'dev',
      databaseUrl: env.FLEETPIPE_DATABASE_URL,
      alerts: {
        kind: 'eventgrid',
        endpoint: env.FLEETPIPE_EVENTGRID_ENDPOINT,
        key: env.FLEETPIPE_EVENTGRID_KEY,
      },
      iotHubServiceConnection: env.FLEETPIPE_IOTHUB_SERVICE_CONNECTION,
      rules: defaultRules,
      maxAgeMs: 3_600_000,
      eventHub: { name: 'fleetpipe-dev', consumerGroup: 'fleetpipe' },
    })
  })

  it('takes rules as JSON, and a consumer group of its own', () => {
    const rules = [{ id: 'cold', kind: 'threshold', metric: 'temperature', below: 0, severity: 'warning' }]
    const config = loadConfig({
      ...env,
      FLEETPIPE_RULES: JSON.stringify(rules),
      EVENTHUB_CONSUMER_GROUP: 'ingest',
    })
    expect(config.rules).toMatchObject(rules)
    expect(config.eventHub.consumerGroup).toBe('ingest')
  })

  it('takes a signed webhook instead of Event Grid for alerts', () => {
    const { FLEETPIPE_EVENTGRID_ENDPOINT: _, FLEETPIPE_EVENTGRID_KEY: __, ...rest } = env
    const config = loadConfig({
      ...rest,
      FLEETPIPE_ALERT_WEBHOOK_URL: 'https://ops.example.com/hooks/fleetpipe',
      FLEETPIPE_ALERT_WEBHOOK_SECRET: 'whsec_0123456789abcdef',
    })
    expect(config.alerts).toEqual({
      kind: 'webhook',
      url: 'https://ops.example.com/hooks/fleetpipe',
      secret: 'whsec_0123456789abcdef',
    })
  })

  it('names every setting that is missing or wrong, in one message', () => {
    const message = problems({
      ...env,
      FLEETPIPE_STAGE: '',
      FLEETPIPE_DATABASE_URL: 'mysql://db',
      FLEETPIPE_RULES: '[{"id":',
      FLEETPIPE_MAX_AGE_MS: 'soon',
      EVENTHUB_NAME: undefined,
      FLEETPIPE_EVENTGRID_KEY: undefined,
    })
    expect(message).toMatch(/FLEETPIPE_STAGE: must be set/)
    expect(message).toMatch(/FLEETPIPE_DATABASE_URL: must be a postgres:\/\/ URL/)
    expect(message).toMatch(/FLEETPIPE_RULES: must be a JSON array of rules/)
    expect(message).toMatch(/FLEETPIPE_MAX_AGE_MS: /)
    expect(message).toMatch(/EVENTHUB_NAME: must be set/)
    expect(message).toMatch(/FLEETPIPE_EVENTGRID_KEY: must be set with FLEETPIPE_EVENTGRID_ENDPOINT/)
  })

  it('asks for exactly one alert sink', () => {
    const { FLEETPIPE_EVENTGRID_ENDPOINT: _, FLEETPIPE_EVENTGRID_KEY: __, ...none } = env
    expect(problems(none)).toMatch(
      /alerts: set FLEETPIPE_EVENTGRID_ENDPOINT and FLEETPIPE_EVENTGRID_KEY, or FLEETPIPE_ALERT_WEBHOOK_URL and FLEETPIPE_ALERT_WEBHOOK_SECRET/,
    )
    expect(
      problems({
        ...env,
        FLEETPIPE_ALERT_WEBHOOK_URL: 'https://ops.example.com/hooks/fleetpipe',
        FLEETPIPE_ALERT_WEBHOOK_SECRET: 'whsec_0123456789abcdef',
      }),
    ).toMatch(/alerts: set Event Grid or a webhook, not both/)
    expect(problems({ ...none, FLEETPIPE_ALERT_WEBHOOK_URL: 'http://ops.example.com/hook' })).toMatch(
      /FLEETPIPE_ALERT_WEBHOOK_URL: must be an https:\/\/ URL[\s\S]*FLEETPIPE_ALERT_WEBHOOK_SECRET: must be set with/,
    )
  })

  it('tells the two IoT Hub connection strings apart', () => {
    const swapped = problems({
      ...env,
      FLEETPIPE_IOTHUB_SERVICE_CONNECTION: env.IOTHUB_EVENTS,
      IOTHUB_EVENTS: env.FLEETPIPE_IOTHUB_SERVICE_CONNECTION,
    })
    expect(swapped).toMatch(
      /FLEETPIPE_IOTHUB_SERVICE_CONNECTION: must be the IoT hub's service connection string \(HostName=…;SharedAccessKeyName=…;SharedAccessKey=…\)/,
    )
    expect(swapped).toMatch(/IOTHUB_EVENTS: must be the IoT hub's Event Hub-compatible connection string/)
  })
})
