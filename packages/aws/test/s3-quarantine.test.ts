import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3'
import { type QuarantineEntry, rawBytes } from '@fleetpipe/core'
import { mockClient } from 'aws-sdk-client-mock'
import { describe, expect, it } from 'vitest'
import { S3Quarantine } from '../src/index.ts'
import { NOW, noWait } from './_fixtures.ts'

function entry(overrides: Partial<QuarantineEntry> = {}): QuarantineEntry {
  return {
    reason: 'schema',
    path: 'metrics.temperature',
    message: 'must be a finite number',
    topic: 'fleet/esp32-0001/telemetry',
    deviceId: 'esp32-0001',
    receivedAt: NOW,
    raw: '{"v":1,"deviceId":"esp32-0001","ts":1,"seq":1,"metrics":{"temperature":"hot"}}',
    rawEncoding: 'utf8',
    rawTruncated: false,
    source: 'aws-iot',
    ...overrides,
  }
}

function setup() {
  const s3 = new S3Client({ region: 'eu-west-1' })
  const mock = mockClient(s3)
  const quarantine = new S3Quarantine(s3, { bucket: 'fleetpipe-dev-data', retry: noWait })
  const inputs = () => mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input)
  return { mock, quarantine, inputs }
}

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  })
}

describe('S3Quarantine', () => {
  it('writes one conditional NDJSON object per put, partitioned by receive hour, keyed by content', async () => {
    const { mock, quarantine, inputs } = setup()
    mock.on(PutObjectCommand).resolves({})
    const binary = entry({
      reason: 'invalid_json',
      raw: Buffer.from([0xff, 0x00]).toString('base64'),
      rawEncoding: 'base64',
    })

    await quarantine.put([entry(), binary])

    const [put] = inputs()
    expect(inputs()).toHaveLength(1)
    expect(put).toEqual({
      Bucket: 'fleetpipe-dev-data',
      Key: expect.stringMatching(/^quarantine\/dt=2026-11-23\/hour=12\/[0-9a-f]{64}\.ndjson$/),
      Body: expect.any(String),
      ContentType: 'application/x-ndjson',
      IfNoneMatch: '*',
    })
    const lines = String(put?.Body)
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as QuarantineEntry)
    expect(lines).toEqual([entry(), binary])
    // What replay needs survives the round trip, bytes included.
    expect([...rawBytes(lines[1] as QuarantineEntry)]).toEqual([0xff, 0x00])
  })

  it('gives the same entries the same key, and takes 412 Precondition Failed as already quarantined', async () => {
    const { mock, quarantine, inputs } = setup()
    mock.on(PutObjectCommand).resolvesOnce({}).rejects(s3Error('PreconditionFailed', 412))

    await quarantine.put([entry()])
    await quarantine.put([entry()])
    await quarantine.put([entry({ message: 'another problem' })])

    const keys = inputs().map((input) => input.Key)
    expect(keys[0]).toBe(keys[1])
    expect(keys[2]).not.toBe(keys[0])
  })

  it('does nothing for no entries', async () => {
    const { quarantine, inputs } = setup()
    await quarantine.put([])
    expect(inputs()).toHaveLength(0)
  })

  it('retries throttling and conflicting conditional writes, then succeeds', async () => {
    const { mock, quarantine, inputs } = setup()
    mock
      .on(PutObjectCommand)
      .rejectsOnce(s3Error('SlowDown', 503))
      .rejectsOnce(s3Error('ConditionalRequestConflict', 409))
      .resolves({})

    await quarantine.put([entry()])

    expect(inputs()).toHaveLength(3)
  })

  it('fails transiently once retries are spent, and at once on a refusal such as AccessDenied', async () => {
    const { mock, quarantine } = setup()
    mock.on(PutObjectCommand).rejects(s3Error('InternalError', 500))
    await expect(quarantine.put([entry()])).rejects.toMatchObject({ name: 'TransientError' })

    mock.reset()
    mock.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403))
    await expect(quarantine.put([entry()])).rejects.toMatchObject({ name: 'AccessDenied' })
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(1)
  })
})
