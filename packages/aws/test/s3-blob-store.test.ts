import { Readable } from 'node:stream'
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { readDataset } from '@fleetpipe/retrain'
import { mockClient } from 'aws-sdk-client-mock'
import { describe, expect, it } from 'vitest'
import { S3BlobStore } from '../src/index.ts'
import { noWait } from './_fixtures.ts'

const bucket = 'fleetpipe-dev-data'

function setup() {
  const s3 = new S3Client({ region: 'eu-west-1' })
  return { mock: mockClient(s3), blobs: new S3BlobStore(s3, { bucket, retry: noWait }) }
}

describe('S3BlobStore', () => {
  it('streams an object in chunks, as a dataset is read', async () => {
    const { mock, blobs } = setup()
    const lines = [
      '{"deviceId":"m-1","ts":1,"seq":0,"metrics":{"t":1}}\n',
      '{"deviceId":"m-1","ts":2,"seq":1,"metrics":{"t":2}}\n',
    ]
    mock.on(GetObjectCommand).resolves({
      Body: Readable.from(lines.map((l) => Buffer.from(l))) as unknown as GetObjectCommandOutput['Body'],
      ContentLength: 104,
      ETag: '"abc"',
      LastModified: new Date(1_000),
    })
    const object = await blobs.get('datasets/motor/a.ndjson')
    expect(object).toMatchObject({
      key: 'datasets/motor/a.ndjson',
      size: 104,
      etag: '"abc"',
      lastModified: 1_000,
    })
    const rows = []
    for await (const row of readDataset(object?.body as AsyncIterable<Uint8Array>, 'ndjson'))
      rows.push(row.reading.ts)
    expect(rows).toEqual([1, 2])
    expect(mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: bucket,
      Key: 'datasets/motor/a.ndjson',
    })
  })

  it('answers undefined for a missing key', async () => {
    const { mock, blobs } = setup()
    mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no', $metadata: {} }))
    expect(await blobs.get('models/motor/current.json')).toBeUndefined()
  })

  it('puts with a content type, and lists every page', async () => {
    const { mock, blobs } = setup()
    mock.on(PutObjectCommand).resolves({})
    mock
      .on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({
        IsTruncated: true,
        NextContinuationToken: 't2',
        Contents: [{ Key: 'models/motor/a.json', Size: 3, ETag: '"1"' }],
      })
      .on(ListObjectsV2Command, { ContinuationToken: 't2' })
      .resolves({ IsTruncated: false, Contents: [{ Key: 'models/motor/b.json', Size: 4, ETag: '"2"' }] })

    await blobs.put('models/motor/current.json', '{}', { contentType: 'application/json' })
    const listed = await blobs.list('models/')

    expect(mock.commandCalls(PutObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: bucket,
      Key: 'models/motor/current.json',
      Body: '{}',
      ContentType: 'application/json',
    })
    expect(mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([
      { Bucket: bucket, Prefix: 'models/' },
      { Bucket: bucket, Prefix: 'models/', ContinuationToken: 't2' },
    ])
    expect(listed.map((o) => o.key)).toEqual(['models/motor/a.json', 'models/motor/b.json'])
  })
})
