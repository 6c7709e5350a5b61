import { createHash } from 'node:crypto'
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn'
import { StepFunctionsTrigger } from '@fleetpipe/aws'
import { mockClient } from 'aws-sdk-client-mock'
import { describe, expect, it } from 'vitest'
import { createRetrainTriggerHandler } from '../src/retrain.ts'
import { loadEvent } from './_events.ts'

const stateMachineArn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:fleetpipe-dev-retrain'
const bucket = 'fleetpipe-dev-data-0a1b2c3'

function setup() {
  const sfn = new SFNClient({ region: 'eu-west-1' })
  const mock = mockClient(sfn)
  mock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date() })
  const logs: Record<string, unknown>[] = []
  const handler = createRetrainTriggerHandler(
    new StepFunctionsTrigger(sfn, { stateMachineArn, retry: { sleep: async () => {} } }),
    { bucket, maxDatasetBytes: 100 * 1024 * 1024, log: (entry) => logs.push(entry) },
  )
  const starts = () => mock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)
  return { handler, starts, logs }
}

/** StartExecution's name: a hash of the idempotency key (packages/aws executionName), recomputed here. */
const nameOf = (key: string) => `fp-${createHash('sha256').update(key).digest('hex')}`.slice(0, 80)

describe('retraining trigger', () => {
  it('starts the state machine for a dataset drop, the run named from bucket, key and sequencer', async () => {
    const { handler, starts } = setup()
    const result = await handler(loadEvent('eventbridge-s3/object-created.json'))

    const idempotencyKey = `${bucket}/datasets/motor/2026-11-23/labeled.ndjson:00617F08299329D189`
    expect(result).toEqual({ started: true, idempotencyKey })
    expect(starts()).toEqual([
      {
        stateMachineArn,
        name: nameOf(idempotencyKey),
        input: JSON.stringify({
          idempotencyKey,
          reason: 'dataset',
          detail: {
            bucket,
            key: 'datasets/motor/2026-11-23/labeled.ndjson',
            deviceType: 'motor',
            size: 1048576,
            sequencer: '00617F08299329D189',
            etag: 'b1946ac92492d2347c6235b4d2611184',
            versionId: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
          },
        }),
      },
    ])
  })

  it('names a duplicated event’s execution the same, and a new drop of the key (new sequencer) differently', async () => {
    const { handler, starts } = setup()
    const event = loadEvent<{ detail: { object: { sequencer: string } } }>(
      'eventbridge-s3/object-created.json',
    )
    await handler(event)
    await handler(loadEvent('eventbridge-s3/object-created.json'))
    event.detail.object.sequencer = '00617F0829932A0000'
    await handler(event)
    const [first, duplicate, redrop] = starts().map((s) => s.name)
    expect(duplicate).toBe(first)
    expect(redrop).not.toBe(first)
    expect(first).toMatch(/^[A-Za-z0-9_-]{1,80}$/)
  })

  it('takes CSV drops without a version id (an unversioned bucket)', async () => {
    const { handler, starts } = setup()
    expect(await handler(loadEvent('eventbridge-s3/object-created-csv.json'))).toMatchObject({
      started: true,
    })
    expect(JSON.parse(starts()[0]?.input as string).detail).toEqual({
      bucket,
      key: 'datasets/motor/readings.csv',
      deviceType: 'motor',
      size: 1048576,
      sequencer: '00617F08299329D1A0',
      etag: 'b1946ac92492d2347c6235b4d2611184',
    })
  })

  it.each([
    ['invalid-outside-datasets', 'models/motor/current.json is not under datasets/'],
    ['invalid-no-device-type', 'datasets/readings.ndjson: put datasets under datasets/{deviceType}/'],
    ['invalid-suffix', 'datasets/motor/readings.parquet: not a dataset (.ndjson, .jsonl or .csv)'],
    ['invalid-empty-object', 'datasets/motor/2026-11-23/labeled.ndjson is empty'],
    ['invalid-folder-marker', 'datasets/motor/: not a dataset (.ndjson, .jsonl or .csv)'],
    [
      'invalid-object-deleted',
      'not an S3 Object Created event: detail-type: Invalid input: expected "Object Created"',
    ],
    [
      'invalid-no-sequencer',
      'not an S3 Object Created event: detail.object.sequencer: Invalid input: expected string, received undefined',
    ],
  ])('refuses %s without starting anything, and logs why', async (fixture, reason) => {
    const { handler, starts, logs } = setup()
    expect(await handler(loadEvent(`eventbridge-s3/${fixture}.json`))).toEqual({ started: false, reason })
    expect(starts()).toEqual([])
    expect(logs).toEqual([{ level: 'WARN', message: 'retraining not started', reason }])
  })

  it('refuses another bucket’s events and datasets over the size limit', async () => {
    const { handler, starts } = setup()
    const other = loadEvent<{ detail: { bucket: { name: string }; object: { size: number } } }>(
      'eventbridge-s3/object-created.json',
    )
    other.detail.bucket.name = 'someone-elses-bucket'
    expect(await handler(other)).toEqual({
      started: false,
      reason: `bucket someone-elses-bucket is not ${bucket}`,
    })
    const huge = loadEvent<{ detail: { object: { size: number } } }>('eventbridge-s3/object-created.json')
    huge.detail.object.size = 200 * 1024 * 1024
    expect(await handler(huge)).toMatchObject({
      started: false,
      reason: expect.stringMatching(/more than 104857600$/),
    })
    expect(starts()).toEqual([])
  })

  it('starts a drift run from the ingest’s RetrainRequested event, under the event’s own idempotency key', async () => {
    const { handler, starts } = setup()
    const event = loadEvent<{ detail: unknown }>('eventbridge/retrain-requested.json')
    expect(await handler(event)).toEqual({ started: true, idempotencyKey: 'drift:motor:anomaly-rate:29561' })
    expect(starts()).toEqual([
      {
        stateMachineArn,
        name: nameOf('drift:motor:anomaly-rate:29561'),
        input: JSON.stringify(event.detail),
      },
    ])
  })
})
