import { Readable } from 'node:stream'
import { GetObjectCommand, type GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3'
import { S3BlobStore } from '@fleetpipe/aws'
import { retrainConfig } from '@fleetpipe/retrain'
import { mockClient } from 'aws-sdk-client-mock'
import { describe, expect, it } from 'vitest'
import { createRetrainTaskHandler } from '../src/retrain.ts'

const bucket = 'fleetpipe-dev-data-0a1b2c3'

function validate(text: string) {
  const s3 = new S3Client({ region: 'eu-west-1' })
  const mock = mockClient(s3)
  mock.on(GetObjectCommand).callsFake(() => ({
    Body: Readable.from([Buffer.from(text)]) as unknown as GetObjectCommandOutput['Body'],
    ContentLength: Buffer.byteLength(text),
    ETag: '"e1"',
  }))
  const handler = createRetrainTaskHandler('ValidateDataset', {
    blobs: new S3BlobStore(s3, { bucket }),
    notifier: { notify: async () => {} },
    clock: { now: () => 0 },
  })
  const input = {
    idempotencyKey: `${bucket}/datasets/motor/a.ndjson:00617F08299329D189`,
    reason: 'dataset',
    detail: { bucket, key: 'datasets/motor/a.ndjson', deviceType: 'motor' },
    config: retrainConfig(),
  }
  return { run: () => handler(input), mock }
}

describe('retraining task functions', () => {
  it('answers the state’s input with its result: ValidateDataset streams the object and summarises it', async () => {
    const rows = [
      '{"v":1,"deviceId":"m-1","ts":1795435200000,"seq":1,"metrics":{"temperature":35},"label":0}',
      '{"v":1,"deviceId":"m-1","ts":1795435210000,"seq":2,"metrics":{"temperature":91},"label":1}',
    ]
    const { run, mock } = validate(`${rows.join('\n')}\n`)
    expect(await run()).toEqual({
      key: 'datasets/motor/a.ndjson',
      etag: '"e1"',
      format: 'ndjson',
      deviceType: 'motor',
      bytes: Buffer.byteLength(`${rows.join('\n')}\n`),
      rows: 2,
      labeled: 2,
      anomalies: 1,
      metrics: ['temperature'],
      from: 1795435200000,
      to: 1795435210000,
    })
    expect(mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: bucket, Key: 'datasets/motor/a.ndjson' },
    ])
  })

  it('throws a DatasetError, the errorType the state machine does not retry, for a corrupt dataset', async () => {
    const { run } = validate(
      '{"v":1,"deviceId":"m-1","ts":1,"seq":1,"metrics":{"temperature":35}}\nnot json\n',
    )
    const error = await run().catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'DatasetError', message: expect.stringMatching(/^line 2: not JSON/) })
  })
})
