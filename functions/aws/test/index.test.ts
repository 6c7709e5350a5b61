import { S3ModelSource, S3Quarantine } from '@fleetpipe/aws'
import { ConfigError } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { depsFromEnv, handler, iotRuleHandler } from '../src/index.ts'
import { sqsEvent } from './_events.ts'

describe('the Lambda entry', () => {
  it('imports without configuration, and wires itself on the first invocation', async () => {
    expect(process.env.FLEETPIPE_STAGE).toBeUndefined()
    await expect(handler(sqsEvent('sqs/batch-mixed.json'))).rejects.toThrow(ConfigError)
    await expect(iotRuleHandler({})).rejects.toThrow(/FLEETPIPE_TIMESTREAM_DATABASE/)
  })

  it('builds the AWS adapters from the environment', () => {
    const { deps, options } = depsFromEnv({
      FLEETPIPE_STAGE: 'dev',
      FLEETPIPE_TIMESTREAM_DATABASE: 'fleetpipe',
      FLEETPIPE_TIMESTREAM_TABLE: 'telemetry',
      FLEETPIPE_STATE_TABLE: 'fleetpipe-dev-state',
      FLEETPIPE_ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:fleetpipe-dev-alerts',
      FLEETPIPE_QUARANTINE_BUCKET: 'fleetpipe-dev-data-0a1b2c3',
    })
    expect(Object.keys(deps).sort()).toEqual([
      'alerts',
      'clock',
      'commands',
      'models',
      'quarantine',
      'state',
      'store',
    ])
    expect(deps.quarantine).toBeInstanceOf(S3Quarantine)
    expect(deps.models).toBeInstanceOf(S3ModelSource)
    expect(options).toMatchObject({ stage: 'dev' })
    expect(options.rules.length).toBeGreaterThan(0)
  })
})
