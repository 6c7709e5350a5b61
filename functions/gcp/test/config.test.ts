import { ConfigError, defaultRules } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'

const env = {
  FLEETPIPE_STAGE: 'prod',
  FLEETPIPE_DATABASE_URL:
    'postgres://fleetpipe:s3cret@/fleetpipe?host=/cloudsql/fleetpipe-prod:europe-west1:fleetpipe',
  FLEETPIPE_ALERTS_TOPIC: 'fleetpipe-alerts',
  FLEETPIPE_COMMANDS_TOPIC: 'projects/fleetpipe-prod/topics/fleetpipe-commands',
}
const webhook = {
  FLEETPIPE_ALERT_WEBHOOK_URL: 'https://ops.example.com/hooks/fleetpipe',
  FLEETPIPE_ALERT_WEBHOOK_SECRET: 'a'.repeat(64),
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

describe('function configuration', () => {
  it('reads the FLEETPIPE_ variables into a typed object, with the default rules', () => {
    expect(loadConfig({ ...env, FLEETPIPE_MAX_AGE_MS: '3600000', UNRELATED: 'x' })).toEqual({
      stage: 'prod',
      databaseUrl: env.FLEETPIPE_DATABASE_URL,
      alertsTopic: 'fleetpipe-alerts',
      webhook: undefined,
      commandsTopic: 'projects/fleetpipe-prod/topics/fleetpipe-commands',
      rules: defaultRules,
      maxAgeMs: 3_600_000,
    })
  })

  it('takes a signed webhook instead of, or with, the alerts topic', () => {
    const { FLEETPIPE_ALERTS_TOPIC: _, ...noTopic } = env
    expect(loadConfig({ ...noTopic, ...webhook })).toMatchObject({
      alertsTopic: undefined,
      webhook: { url: webhook.FLEETPIPE_ALERT_WEBHOOK_URL, secret: webhook.FLEETPIPE_ALERT_WEBHOOK_SECRET },
    })
    expect(loadConfig({ ...env, ...webhook })).toMatchObject({ alertsTopic: 'fleetpipe-alerts', webhook: {} })
  })

  it('takes rules as JSON', () => {
    const rules = [{ id: 'cold', kind: 'threshold', metric: 'temperature', below: 0, severity: 'warning' }]
    expect(loadConfig({ ...env, FLEETPIPE_RULES: JSON.stringify(rules) }).rules).toMatchObject(rules)
  })

  it('names every variable that is missing or wrong, and what to do', () => {
    const message = problems({
      FLEETPIPE_STAGE: '',
      FLEETPIPE_DATABASE_URL: 'mysql://db/fleetpipe',
      FLEETPIPE_COMMANDS_TOPIC: 'goog-commands',
      FLEETPIPE_RULES: '[{"id":',
      FLEETPIPE_MAX_AGE_MS: 'soon',
    })
    expect(message).toMatch(/^bad function configuration\n/)
    expect(message).toMatch(/FLEETPIPE_STAGE: must be set/)
    expect(message).toMatch(/FLEETPIPE_DATABASE_URL: must be a postgres:\/\/ URL \(Cloud SQL over its socket/)
    expect(message).toMatch(/FLEETPIPE_COMMANDS_TOPIC: must be a Pub\/Sub topic name/)
    expect(message).toMatch(/FLEETPIPE_RULES: must be a JSON array of rules/)
    expect(message).toMatch(/FLEETPIPE_MAX_AGE_MS: /)
    expect(message).toMatch(/FLEETPIPE_ALERTS_TOPIC: must be set, or FLEETPIPE_ALERT_WEBHOOK_URL and/)
  })

  it('wants the webhook URL and secret together, over https, with a long secret', () => {
    const { FLEETPIPE_ALERTS_TOPIC: _, ...noTopic } = env
    expect(
      problems({ ...noTopic, FLEETPIPE_ALERT_WEBHOOK_URL: webhook.FLEETPIPE_ALERT_WEBHOOK_URL }),
    ).toMatch(/FLEETPIPE_ALERT_WEBHOOK_SECRET: must be set with FLEETPIPE_ALERT_WEBHOOK_URL/)
    expect(
      problems({ ...env, FLEETPIPE_ALERT_WEBHOOK_SECRET: webhook.FLEETPIPE_ALERT_WEBHOOK_SECRET }),
    ).toMatch(/FLEETPIPE_ALERT_WEBHOOK_URL: must be set with FLEETPIPE_ALERT_WEBHOOK_SECRET/)
    const weak = problems({
      ...env,
      FLEETPIPE_ALERT_WEBHOOK_URL: 'http://ops.example.com/',
      FLEETPIPE_ALERT_WEBHOOK_SECRET: 'short',
    })
    expect(weak).toMatch(/FLEETPIPE_ALERT_WEBHOOK_URL: must be an https:\/\/ URL/)
    expect(weak).toMatch(/FLEETPIPE_ALERT_WEBHOOK_SECRET: must be at least 32 characters/)
  })
})
