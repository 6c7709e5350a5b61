import { ConfigError, defaultRules } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'

const env = {
  FLEETPIPE_STAGE: 'dev',
  FLEETPIPE_TIMESTREAM_DATABASE: 'fleetpipe',
  FLEETPIPE_TIMESTREAM_TABLE: 'telemetry',
  FLEETPIPE_STATE_TABLE: 'fleetpipe-dev-state',
  FLEETPIPE_ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:fleetpipe-dev-alerts',
  FLEETPIPE_QUARANTINE_BUCKET: 'fleetpipe-dev-data-0a1b2c3',
}

describe('Lambda configuration', () => {
  it('reads the FLEETPIPE_ variables into a typed object, with the default rules', () => {
    expect(loadConfig({ ...env, FLEETPIPE_MAX_AGE_MS: '3600000' })).toEqual({
      stage: 'dev',
      timestream: { database: 'fleetpipe', table: 'telemetry' },
      stateTable: 'fleetpipe-dev-state',
      alertTopicArn: env.FLEETPIPE_ALERT_TOPIC_ARN,
      quarantineBucket: 'fleetpipe-dev-data-0a1b2c3',
      rules: defaultRules,
      maxAgeMs: 3_600_000,
      iotDataEndpoint: undefined,
    })
  })

  it('takes rules as JSON', () => {
    const rules = [{ id: 'cold', kind: 'threshold', metric: 'temperature', below: 0, severity: 'warning' }]
    expect(loadConfig({ ...env, FLEETPIPE_RULES: JSON.stringify(rules) }).rules).toMatchObject(rules)
  })

  it('names every variable that is missing or wrong', () => {
    const bad = { ...env, FLEETPIPE_STAGE: '', FLEETPIPE_RULES: '[{"id":', FLEETPIPE_MAX_AGE_MS: 'soon' }
    expect(() => loadConfig(bad)).toThrow(ConfigError)
    const message = (() => {
      try {
        loadConfig(bad)
      } catch (error) {
        return (error as Error).message
      }
    })()
    expect(message).toMatch(/FLEETPIPE_STAGE: must be set/)
    expect(message).toMatch(/FLEETPIPE_RULES: must be a JSON array of rules/)
    expect(message).toMatch(/FLEETPIPE_MAX_AGE_MS: /)
  })
})
