import { describe, expect, it } from 'vitest'
import {
  DEFAULT_MAX_AGE_MS,
  type DecodedRecord,
  decode,
  MAX_FUTURE_MS,
  MAX_PAYLOAD_BYTES,
  rawBytes,
} from '../src/index.ts'
import { message, NOW, reading } from './_fixtures.ts'

const options = { now: NOW, maxAgeMs: DEFAULT_MAX_AGE_MS }

function refusal(records: DecodedRecord[]) {
  expect(records).toHaveLength(1)
  const [record] = records
  if (record?.kind !== 'quarantined') throw new Error(`expected a quarantine entry, got ${record?.kind}`)
  return record.entry
}

describe('decode: single readings', () => {
  it('accepts the documented example and normalises a missing boot to empty', () => {
    const records = decode(message(reading()), options)
    expect(records).toEqual([
      {
        kind: 'reading',
        reading: {
          deviceId: 'esp32-0001',
          boot: '',
          seq: 42,
          ts: NOW - 1_000,
          metrics: { temperature: 23.5, vibration: 0.12, current: 4.2 },
          fw: '1.4.2',
        },
      },
    ])
  })

  it('accepts bytes as well as text, and numeric boot ids as strings', () => {
    const payload = Buffer.from(JSON.stringify(reading({ boot: 7 })))
    const [record] = decode(message(reading(), { payload }), options)
    expect(record).toMatchObject({ kind: 'reading', reading: { boot: '7' } })
  })

  it.each([
    ['a 64-character device id', { deviceId: 'd'.repeat(64) }],
    ['64 metrics', { metrics: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`m${i}`, i])) }],
    ['a metric name of 64 characters', { metrics: { [`m${'x'.repeat(63)}`]: 1 } }],
    ['seq 0', { seq: 0 }],
    ['ts exactly 15 minutes ahead', { ts: NOW + MAX_FUTURE_MS }],
    ['ts exactly at the horizon', { ts: NOW - DEFAULT_MAX_AGE_MS }],
  ])('accepts the boundary: %s', (_, overrides) => {
    const body = reading(overrides)
    const [record] = decode(message(body), options)
    expect(record?.kind).toBe('reading')
  })

  it('accepts a payload of exactly the size limit', () => {
    const body = reading({ fw: 'x' })
    const text = JSON.stringify(body)
    const padded = `${text.slice(0, -1)}${' '.repeat(MAX_PAYLOAD_BYTES - text.length)}}`
    expect(Buffer.byteLength(padded)).toBe(MAX_PAYLOAD_BYTES)
    expect(decode(message(padded), options)[0]?.kind).toBe('reading')
  })
})

describe('decode: every quarantine reason, with its field path', () => {
  it.each([
    ['invalid_json', '{"v":1,', '', /not JSON/],
    ['schema', JSON.stringify([1, 2]), '', /JSON object/],
    ['schema', JSON.stringify(reading({ seq: -1 })), 'seq', /seq/],
    ['schema', JSON.stringify(reading({ seq: 1.5 })), 'seq', /seq/],
    ['schema', JSON.stringify(reading({ metrics: {} })), 'metrics', /1 to 64/],
    ['schema', JSON.stringify(reading({ metrics: { Temp: 1 } })), 'metrics.Temp', /metric names/],
    [
      'schema',
      JSON.stringify(reading({ metrics: { t: 'hot' as unknown as number } })),
      'metrics.t',
      /number/,
    ],
    ['schema', '{"v":1,"deviceId":"esp32-0001","ts":1,"seq":1,"metrics":{"t":1e999}}', 'metrics.t', /finite/],
    [
      'schema',
      JSON.stringify(
        reading({ metrics: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, i])) }),
      ),
      'metrics',
      /1 to 64/,
    ],
    ['unsupported_version', JSON.stringify(reading({ v: 2 as 1 })), 'v', /version 2/],
    ['timestamp_out_of_range', JSON.stringify(reading({ ts: NOW + MAX_FUTURE_MS + 1 })), 'ts', /future/],
    [
      'timestamp_out_of_range',
      JSON.stringify(reading({ ts: NOW - DEFAULT_MAX_AGE_MS - 1 })),
      'ts',
      /horizon/,
    ],
  ])('%s: %s', (reason, payload, path, text) => {
    const entry = refusal(decode(message(payload), options))
    expect(entry).toMatchObject({ reason, path, topic: 'fleet/esp32-0001/telemetry', deviceId: 'esp32-0001' })
    expect(entry.message).toMatch(text)
    expect(entry.raw).toBe(payload)
  })

  it('device_mismatch: a device may not speak for another', () => {
    const body = reading({ deviceId: 'esp32-0002' })
    const entry = refusal(decode(message(body, { topic: 'fleet/esp32-0001/telemetry' }), options))
    expect(entry).toMatchObject({ reason: 'device_mismatch', path: 'deviceId', deviceId: 'esp32-0001' })
  })

  it('device_mismatch: the transport-authenticated device wins over the topic', () => {
    const entry = refusal(decode(message(reading(), { transportDeviceId: 'esp32-0009' }), options))
    expect(entry.reason).toBe('device_mismatch')
    expect(entry.message).toMatch(/esp32-0009/)
  })

  it('schema: an invalid device id in both topic and payload', () => {
    const body = reading({ deviceId: 'bad id' })
    const entry = refusal(decode(message(body, { topic: 'fleet/bad id/telemetry' }), options))
    expect(entry).toMatchObject({ reason: 'schema', path: 'deviceId' })
  })

  it('payload_too_large: keeps a bounded prefix of the raw payload, marked truncated', () => {
    const big = `{"v":1,"pad":"${'x'.repeat(MAX_PAYLOAD_BYTES)}"}`
    const entry = refusal(decode(message(big), options))
    expect(entry).toMatchObject({ reason: 'payload_too_large', rawTruncated: true })
    expect(rawBytes(entry).byteLength).toBe(MAX_PAYLOAD_BYTES)
  })

  it('unknown_topic: commands and foreign topics are not ingest input', () => {
    expect(refusal(decode(message(reading(), { topic: 'fleet/esp32-0001/commands' }), options)).reason).toBe(
      'unknown_topic',
    )
    expect(refusal(decode(message(reading(), { topic: 'other/esp32-0001' }), options)).reason).toBe(
      'unknown_topic',
    )
  })

  it('keeps binary payloads losslessly as base64', () => {
    const payload = Uint8Array.from([0xff, 0xfe, 0x00, 0x7b])
    const entry = refusal(decode(message(reading(), { payload }), options))
    expect(entry.reason).toBe('invalid_json')
    expect(entry.rawEncoding).toBe('base64')
    expect([...rawBytes(entry)]).toEqual([...payload])
  })
})

describe('decode: batched form', () => {
  const batch = (readings: unknown[]) => ({ v: 1, deviceId: 'esp32-0001', boot: 'b1', fw: '1.4.2', readings })

  it('yields one reading per entry with the envelope device, boot and firmware', () => {
    const records = decode(
      message(
        batch([
          { ts: NOW - 2_000, seq: 1, metrics: { temperature: 20 } },
          { ts: NOW - 1_000, seq: 2, metrics: { temperature: 21 } },
        ]),
      ),
      options,
    )
    expect(records.map((r) => r.kind === 'reading' && [r.reading.boot, r.reading.seq, r.reading.fw])).toEqual(
      [
        ['b1', 1, '1.4.2'],
        ['b1', 2, '1.4.2'],
      ],
    )
  })

  it('quarantines a bad reading alone, as a single-reading message that replays on its own', () => {
    const records = decode(
      message(
        batch([
          { ts: NOW - 2_000, seq: 1, metrics: { temperature: 20 } },
          { ts: NOW - 1_000, seq: 2, metrics: { temperature: 'x' } },
          { ts: NOW + MAX_FUTURE_MS + 1, seq: 3, metrics: { temperature: 22 } },
        ]),
      ),
      options,
    )
    expect(records.map((r) => r.kind)).toEqual(['reading', 'quarantined', 'quarantined'])
    const [, bad, late] = records
    expect(bad).toMatchObject({ entry: { reason: 'schema', path: 'readings.1.metrics.temperature' } })
    expect(late).toMatchObject({ entry: { reason: 'timestamp_out_of_range', path: 'readings.2.ts' } })
    if (bad?.kind !== 'quarantined') throw new Error('expected quarantine')
    expect(JSON.parse(bad.entry.raw)).toEqual({
      v: 1,
      deviceId: 'esp32-0001',
      boot: 'b1',
      fw: '1.4.2',
      ts: NOW - 1_000,
      seq: 2,
      metrics: { temperature: 'x' },
    })
  })

  it('quarantines the whole message when the envelope is wrong', () => {
    const entry = refusal(decode(message(batch([])), options))
    expect(entry).toMatchObject({ reason: 'schema', path: 'readings' })
  })
})

describe('decode: status', () => {
  it('accepts birth and last will', () => {
    const body = { v: 1, deviceId: 'esp32-0001', state: 'offline' }
    const [record] = decode(message(body, { topic: 'fleet/esp32-0001/status' }), options)
    expect(record).toEqual({ kind: 'status', status: { ...body, receivedAt: NOW } })
  })

  it('quarantines an unknown state', () => {
    const body = { v: 1, deviceId: 'esp32-0001', state: 'sleepy' }
    const entry = refusal(decode(message(body, { topic: 'fleet/esp32-0001/status' }), options))
    expect(entry).toMatchObject({ reason: 'schema', path: 'state' })
  })
})
