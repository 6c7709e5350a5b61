import { Readable } from 'node:stream'
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  NoSuchKey,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3'
import { MODEL_FORMAT, type Model } from '@fleetpipe/core'
import { POINTER_FORMAT } from '@fleetpipe/retrain'
import { mockClient } from 'aws-sdk-client-mock'
import { describe, expect, it } from 'vitest'
import { S3ModelSource } from '../src/index.ts'
import { NOW, noWait } from './_fixtures.ts'

const bucket = 'fleetpipe-dev-data'

function model(version: string, threshold = 4): Model {
  return {
    format: MODEL_FORMAT,
    deviceType: 'motor',
    version,
    trainedAt: NOW,
    metrics: ['temperature'],
    baselines: { temperature: { median: 35, mad: 0.5 } },
    threshold,
  }
}

const pointer = (version: string) =>
  JSON.stringify({
    format: POINTER_FORMAT,
    deviceType: 'motor',
    version,
    key: `models/motor/${version}.json`,
    promotedAt: NOW,
  })

/** A GetObject body as the SDK hands it in Node: a stream that can also read itself to a string. */
const body = (text: string) =>
  Object.assign(Readable.from([Buffer.from(text)]), {
    transformToString: async () => text,
  }) as unknown as GetObjectCommandOutput['Body']

function setup() {
  const s3 = new S3Client({ region: 'eu-west-1' })
  const mock = mockClient(s3)
  let now = NOW
  const source = new S3ModelSource(s3, { bucket, ttlMs: 60_000, retry: noWait, now: () => now })
  const inputs = () => mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input)
  return { mock, source, inputs, advance: (ms: number) => (now += ms) }
}

const notModified = () =>
  new S3ServiceException({ name: 'NotModified', $fault: 'client', $metadata: { httpStatusCode: 304 } })

describe('S3ModelSource', () => {
  it('reads the pointer, then the version it names; within the TTL it asks nothing', async () => {
    const { mock, source, inputs, advance } = setup()
    mock
      .on(GetObjectCommand, { Key: 'models/motor/current.json' })
      .callsFake(() => ({ Body: body(pointer('v1')), ETag: '"p1"' }))
      .on(GetObjectCommand, { Key: 'models/motor/v1.json' })
      .callsFake(() => ({ Body: body(JSON.stringify(model('v1'))), ETag: '"m1"' }))

    expect(await source.current('motor')).toEqual(model('v1'))
    advance(59_000)
    expect(await source.current('motor')).toEqual(model('v1'))
    expect(inputs()).toEqual([
      { Bucket: bucket, Key: 'models/motor/current.json' },
      { Bucket: bucket, Key: 'models/motor/v1.json' },
    ])
  })

  it('after the TTL asks again with If-None-Match: a 304 keeps the model, a new pointer loads the new version', async () => {
    const { mock, source, inputs, advance } = setup()
    mock
      .on(GetObjectCommand, { Key: 'models/motor/current.json' })
      .callsFakeOnce(() => ({ Body: body(pointer('v1')), ETag: '"p1"' }))
      .rejectsOnce(notModified())
      .callsFake(() => ({ Body: body(pointer('v2')), ETag: '"p2"' }))
      .on(GetObjectCommand, { Key: 'models/motor/v1.json' })
      .callsFake(() => ({ Body: body(JSON.stringify(model('v1'))) }))
      .on(GetObjectCommand, { Key: 'models/motor/v2.json' })
      .callsFake(() => ({ Body: body(JSON.stringify(model('v2', 6))) }))

    await source.current('motor')
    advance(60_000)
    expect((await source.current('motor'))?.version).toBe('v1')
    advance(60_000)
    expect(await source.current('motor')).toEqual(model('v2', 6))
    expect(inputs()).toEqual([
      { Bucket: bucket, Key: 'models/motor/current.json' },
      { Bucket: bucket, Key: 'models/motor/v1.json' },
      { Bucket: bucket, Key: 'models/motor/current.json', IfNoneMatch: '"p1"' },
      { Bucket: bucket, Key: 'models/motor/current.json', IfNoneMatch: '"p1"' },
      { Bucket: bucket, Key: 'models/motor/v2.json' },
    ])
  })

  it('has no model for a type never promoted, and asks once for many concurrent callers', async () => {
    const { mock, source, inputs } = setup()
    mock
      .on(GetObjectCommand)
      .rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }))
    const models = await Promise.all([source.current('pump'), source.current('pump'), source.current('pump')])
    expect(models).toEqual([undefined, undefined, undefined])
    expect(inputs()).toEqual([{ Bucket: bucket, Key: 'models/pump/current.json' }])
  })

  it('keeps scoring with the model it has when a refresh fails, and throws when it has none', async () => {
    const { mock, source, advance } = setup()
    const denied = new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
    })
    mock
      .on(GetObjectCommand)
      .rejects(denied)
      .on(GetObjectCommand, { Key: 'models/motor/current.json' })
      .callsFakeOnce(() => ({ Body: body(pointer('v1')), ETag: '"p1"' }))
      .rejects(denied)
      .on(GetObjectCommand, { Key: 'models/motor/v1.json' })
      .callsFake(() => ({ Body: body(JSON.stringify(model('v1'))) }))
    await source.current('motor')
    advance(61_000)
    expect((await source.current('motor'))?.version).toBe('v1')
    await expect(source.current('fan')).rejects.toBe(denied)
  })
})
