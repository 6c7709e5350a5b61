import {
  AccessDeniedException,
  InternalServerException,
  RejectedRecordsException,
  ThrottlingException,
  TimestreamWriteClient,
  ValidationException,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from '@aws-sdk/client-timestream-write'
import { type Reading, TransientError } from '@fleetpipe/core'
import { mockClient } from 'aws-sdk-client-mock'
import { describe, expect, it } from 'vitest'
import { TimestreamTelemetryStore } from '../src/index.ts'
import { interleave, NOW, noWait, readingsOf } from './_fixtures.ts'

const target = { database: 'fleetpipe', table: 'telemetry' }

function setup(options: { maxParallel?: number; attempts?: number } = {}) {
  const client = new TimestreamWriteClient({ region: 'eu-west-1' })
  const mock = mockClient(client)
  const store = new TimestreamTelemetryStore(client, {
    ...target,
    maxParallel: options.maxParallel,
    retry: { ...noWait, attempts: options.attempts ?? 4 },
  })
  const inputs = () => mock.commandCalls(WriteRecordsCommand).map((call) => call.args[0].input)
  return { mock, store, inputs }
}

const throttled = () =>
  new ThrottlingException({
    message: 'Rate exceeded',
    Message: 'Rate exceeded',
    $metadata: { httpStatusCode: 429 },
  })

/** Each record of a call, with CommonAttributes merged in, as Timestream reads it. */
function dimensionsOf(input: WriteRecordsCommandInput) {
  return Object.fromEntries((input.CommonAttributes?.Dimensions ?? []).map((d) => [d.Name, d.Value]))
}

describe('TimestreamTelemetryStore.write', () => {
  it('writes 1,000 readings of 10 devices in 10 calls of one device each, as multi-measure records', async () => {
    const { mock, store, inputs } = setup()
    mock
      .on(WriteRecordsCommand)
      .resolves({ RecordsIngested: { Total: 100, MemoryStore: 100, MagneticStore: 0 } })
    const devices = Array.from({ length: 10 }, (_, d) =>
      // Some devices send no boot id, some no firmware version.
      readingsOf(`esp32-${String(d + 1).padStart(4, '0')}`, 100, {
        boot: d % 3 === 0 ? '' : `boot-${d}`,
        fw: d % 4 === 0 ? null : '1.4.2',
      }),
    )
    const readings = interleave(devices)

    const outcomes = await store.write(readings)

    expect(outcomes).toHaveLength(1_000)
    expect(outcomes.every((o) => o.status === 'stored')).toBe(true)
    const calls = inputs()
    expect(calls).toHaveLength(10)
    const seen = new Set<string>()
    for (const input of calls) {
      expect(input.DatabaseName).toBe('fleetpipe')
      expect(input.TableName).toBe('telemetry')
      expect(input.Records?.length).toBeGreaterThan(0)
      expect(input.Records?.length).toBeLessThanOrEqual(100)
      const dims = dimensionsOf(input)
      const deviceId = dims.device_id as string
      seen.add(deviceId)
      const d = Number(deviceId.slice(-4)) - 1
      expect(input.CommonAttributes).toEqual({
        Dimensions: [
          { Name: 'device_id', Value: deviceId },
          ...(d % 3 === 0 ? [] : [{ Name: 'boot', Value: `boot-${d}` }]),
          ...(d % 4 === 0 ? [] : [{ Name: 'fw', Value: '1.4.2' }]),
        ],
        MeasureName: 'metrics',
        MeasureValueType: 'MULTI',
        TimeUnit: 'MILLISECONDS',
        Version: 1,
      })
      for (const dim of input.CommonAttributes?.Dimensions ?? []) expect(dim.Value).not.toBe('')
      const mine = devices[d] as Reading[]
      input.Records?.forEach((record, i) => {
        const reading = mine[i] as Reading
        // Shared fields live in CommonAttributes only.
        expect(Object.keys(record).sort()).toEqual(['MeasureValues', 'Time'])
        expect(record.Time).toBe(String(reading.ts))
        expect(record.MeasureValues).toEqual([
          ...Object.entries(reading.metrics).map(([Name, v]) => ({ Name, Value: String(v), Type: 'DOUBLE' })),
          { Name: 'seq', Value: String(reading.seq), Type: 'BIGINT' },
        ])
      })
    }
    expect(seen.size).toBe(10)
  })

  it('splits 250 readings of one device into calls of 100, 100 and 50, in order', async () => {
    const { mock, store, inputs } = setup()
    mock.on(WriteRecordsCommand).resolves({})
    const readings = readingsOf('esp32-0001', 250)

    const outcomes = await store.write(readings)

    expect(outcomes.filter((o) => o.status === 'stored')).toHaveLength(250)
    const calls = inputs()
    expect(calls.map((c) => c.Records?.length)).toEqual([100, 100, 50])
    expect(calls.flatMap((c) => c.Records?.map((r) => r.Time))).toEqual(readings.map((r) => String(r.ts)))
  })

  it('keeps at most maxParallel calls in flight', async () => {
    const { mock, store } = setup({ maxParallel: 3 })
    let inFlight = 0
    let most = 0
    mock.on(WriteRecordsCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight)
      await new Promise((resolve) => setTimeout(resolve, 5))
      inFlight--
      return {}
    })
    const readings = interleave(Array.from({ length: 8 }, (_, d) => readingsOf(`dev-${d}`, 150)))

    const outcomes = await store.write(readings)

    expect(outcomes.every((o) => o.status === 'stored')).toBe(true)
    // 1,200 readings: 12 calls of 100, the floor.
    expect(mock.commandCalls(WriteRecordsCommand)).toHaveLength(12)
    expect(most).toBe(3)
  })

  it('maps RejectedRecords of one call back to its readings; the rest are stored', async () => {
    const { mock, store } = setup()
    const a = readingsOf('esp32-0001', 4)
    const b = readingsOf('esp32-0002', 4)
    const versionReason =
      'A record already exists with the same time, dimensions, measure name, and record version. A higher record version must be specified in order to update the measure value.'
    const retentionReason = 'The record timestamp is outside the time range of the memory store.'
    // One call holds both devices, each device's readings together: a0-a3 then b0-b3.
    mock.on(WriteRecordsCommand).callsFake((input: WriteRecordsCommandInput) => {
      const devices = input.Records?.map((r) => r.Dimensions?.[0]?.Value)
      expect(devices).toEqual([...Array(4).fill('esp32-0001'), ...Array(4).fill('esp32-0002')])
      return Promise.reject(
        new RejectedRecordsException({
          message: 'One or more records have been rejected. See RejectedRecords for details.',
          $metadata: { httpStatusCode: 419 },
          RejectedRecords: [
            { RecordIndex: 5, Reason: versionReason, ExistingVersion: 1 },
            { RecordIndex: 7, Reason: retentionReason },
          ],
        }),
      )
    })

    const outcomes = await store.write(interleave([a, b]))

    // Input order: a0 b0 a1 b1 a2 b2 a3 b3
    expect(outcomes).toEqual([
      { status: 'stored' },
      { status: 'stored' },
      { status: 'stored' },
      { status: 'rejected', reason: 'version_conflict', message: versionReason },
      { status: 'stored' },
      { status: 'stored' },
      { status: 'stored' },
      { status: 'rejected', reason: 'out_of_retention', message: retentionReason },
    ])
    // One call, and a rejection is final: not retried.
    expect(mock.commandCalls(WriteRecordsCommand)).toHaveLength(1)
  })

  it('retries a throttled call with backoff: throttled twice, then stored on the third attempt', async () => {
    const client = new TimestreamWriteClient({ region: 'eu-west-1' })
    const mock = mockClient(client)
    const waits: number[] = []
    const store = new TimestreamTelemetryStore(client, {
      ...target,
      retry: {
        attempts: 5,
        baseMs: 100,
        maxMs: 5_000,
        random: () => 0.5,
        sleep: async (ms) => void waits.push(ms),
      },
    })
    mock.on(WriteRecordsCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({})

    const outcomes = await store.write(readingsOf('esp32-0001', 3))

    expect(outcomes).toEqual([{ status: 'stored' }, { status: 'stored' }, { status: 'stored' }])
    expect(mock.commandCalls(WriteRecordsCommand)).toHaveLength(3)
    // Full jitter: half of 100 ms, then half of 200 ms.
    expect(waits).toEqual([50, 100])
  })

  it('throws a TransientError with the SDK error as cause once the attempts are spent', async () => {
    const { mock, store } = setup({ attempts: 4 })
    mock.on(WriteRecordsCommand).rejects(throttled())

    const error = await store.write(readingsOf('esp32-0001', 3)).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(TransientError)
    expect((error as TransientError).cause).toBeInstanceOf(ThrottlingException)
    expect((error as Error).message).toMatch(/after 4 attempts/)
    expect(mock.commandCalls(WriteRecordsCommand)).toHaveLength(4)
  })

  it('treats 5xx answers, InternalServerException and dropped connections as transient', async () => {
    const { mock, store } = setup()
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
    mock
      .on(WriteRecordsCommand)
      .rejectsOnce(new InternalServerException({ message: 'oops', Message: 'oops', $metadata: {} }))
      .rejectsOnce(Object.assign(new Error('Service Unavailable'), { $metadata: { httpStatusCode: 503 } }))
      .rejectsOnce(reset)
      .resolves({})

    const outcomes = await store.write(readingsOf('esp32-0001', 2))

    expect(outcomes).toEqual([{ status: 'stored' }, { status: 'stored' }])
    expect(mock.commandCalls(WriteRecordsCommand)).toHaveLength(4)
  })

  it("rejects a call's readings with the message of a ValidationException, without retrying", async () => {
    const { mock, store } = setup()
    const message = 'Invalid time for record.'
    mock
      .on(WriteRecordsCommand)
      .callsFake((input: WriteRecordsCommandInput) =>
        dimensionsOf(input).device_id === 'esp32-0002'
          ? Promise.reject(
              new ValidationException({ message, Message: message, $metadata: { httpStatusCode: 400 } }),
            )
          : Promise.resolve({}),
      )

    // A full call of esp32-0001, then a call of esp32-0002 alone, which is refused.
    const outcomes = await store.write([...readingsOf('esp32-0001', 100), ...readingsOf('esp32-0002', 2)])

    const rejected = { status: 'rejected', reason: 'validation', message }
    expect(outcomes).toEqual([...Array(100).fill({ status: 'stored' }), rejected, rejected])
    expect(mock.commandCalls(WriteRecordsCommand)).toHaveLength(2)
  })

  it('throws other client errors as they are, at once', async () => {
    const { mock, store } = setup()
    mock
      .on(WriteRecordsCommand)
      .rejects(new AccessDeniedException({ message: 'denied', Message: 'denied', $metadata: {} }))

    const error = await store.write(readingsOf('esp32-0001', 1)).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(AccessDeniedException)
    expect(error).not.toBeInstanceOf(TransientError)
    expect(mock.commandCalls(WriteRecordsCommand)).toHaveLength(1)
  })

  it('rejects, without sending it, a reading whose metric name collides with a dimension or a reserved name', async () => {
    const { mock, store, inputs } = setup()
    mock.on(WriteRecordsCommand).resolves({})
    const [ok, clash, reserved] = readingsOf('esp32-0001', 3) as [Reading, Reading, Reading]
    clash.metrics = { ...clash.metrics, seq: 1 }
    reserved.metrics = { ...reserved.metrics, measure_value_x: 2 }

    const outcomes = await store.write([ok, clash, reserved])

    expect(outcomes[0]).toEqual({ status: 'stored' })
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: 'reserved_name' })
    expect(outcomes[2]).toMatchObject({ status: 'rejected', reason: 'reserved_name' })
    expect(inputs().flatMap((c) => c.Records?.map((r) => r.Time))).toEqual([String(ok.ts)])
  })

  it('puts the dimensions on each record when a call mixes series (here: a reboot mid-batch)', async () => {
    const { mock, store, inputs } = setup()
    mock.on(WriteRecordsCommand).resolves({})
    const before = readingsOf('esp32-0001', 2, { boot: 'boot-1' })
    const after = readingsOf('esp32-0001', 2, { boot: 'boot-2', from: 2 })

    await store.write([...before, ...after])

    const [call] = inputs()
    expect(inputs()).toHaveLength(1)
    expect(call?.CommonAttributes?.Dimensions).toBeUndefined()
    expect(call?.Records?.map((r) => r.Dimensions?.find((d) => d.Name === 'boot')?.Value)).toEqual([
      'boot-1',
      'boot-1',
      'boot-2',
      'boot-2',
    ])
  })

  it('writes 1,000 readings of 1,000 devices in 10 calls: the floor', async () => {
    const { mock, store, inputs } = setup()
    mock.on(WriteRecordsCommand).resolves({})
    const readings = Array.from({ length: 1_000 }, (_, i) => readingsOf(`esp32-${i}`, 1)[0] as Reading)

    expect(new Set((await store.write(readings)).map((o) => o.status))).toEqual(new Set(['stored']))
    expect(inputs().map((c) => c.Records?.length)).toEqual(Array(10).fill(100))
    for (const call of inputs()) {
      for (const record of call.Records ?? []) expect(record.Dimensions?.[0]?.Name).toBe('device_id')
    }
  })

  it('makes no call for no readings', async () => {
    const { store, inputs } = setup()
    expect(await store.write([])).toEqual([])
    expect(inputs()).toHaveLength(0)
  })
})

describe('TimestreamTelemetryStore.writeStatus', () => {
  it('writes births and last wills as VARCHAR status records, at device time or receive time', async () => {
    const { mock, store, inputs } = setup()
    mock.on(WriteRecordsCommand).resolves({})

    await store.writeStatus([
      {
        v: 1,
        deviceId: 'esp32-0001',
        state: 'online',
        ts: NOW,
        boot: 'a1b2c3d4',
        fw: '1.4.2',
        receivedAt: NOW + 20,
      },
      { v: 1, deviceId: 'esp32-0002', state: 'offline', receivedAt: NOW + 30 },
    ])

    expect(inputs()).toEqual([
      {
        DatabaseName: 'fleetpipe',
        TableName: 'telemetry',
        CommonAttributes: {
          MeasureName: 'status',
          MeasureValueType: 'VARCHAR',
          TimeUnit: 'MILLISECONDS',
          Version: 1,
        },
        Records: [
          {
            Dimensions: [
              { Name: 'device_id', Value: 'esp32-0001' },
              { Name: 'boot', Value: 'a1b2c3d4' },
              { Name: 'fw', Value: '1.4.2' },
            ],
            MeasureValue: 'online',
            Time: String(NOW),
          },
          {
            Dimensions: [{ Name: 'device_id', Value: 'esp32-0002' }],
            MeasureValue: 'offline',
            Time: String(NOW + 30),
          },
        ],
      },
    ])
  })

  it('fails, naming them, when Timestream rejects status records', async () => {
    const { mock, store } = setup()
    mock.on(WriteRecordsCommand).rejects(
      new RejectedRecordsException({
        message: 'One or more records have been rejected.',
        $metadata: {},
        RejectedRecords: [{ RecordIndex: 0, Reason: 'The record timestamp is outside the time range.' }],
      }),
    )

    await expect(
      store.writeStatus([{ v: 1, deviceId: 'esp32-0009', state: 'online', ts: 0, receivedAt: NOW }]),
    ).rejects.toThrow(/esp32-0009: The record timestamp is outside/)
  })
})
