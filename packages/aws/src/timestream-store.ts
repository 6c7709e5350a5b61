import {
  type _Record,
  type Dimension,
  type RejectedRecord,
  type TimestreamWriteClient,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from '@aws-sdk/client-timestream-write'
import {
  chunk,
  FleetpipeError,
  forEachBounded,
  type Reading,
  type StatusUpdate,
  type TelemetryStore,
  type WriteOutcome,
} from '@fleetpipe/core'
import { errorName, type RetryPolicy, withRetry } from './_transient.ts'

export interface TimestreamStoreOptions {
  database: string
  table: string
  /** WriteRecords calls in flight at once. */
  maxParallel?: number
  retry?: RetryPolicy
}

/** https://docs.aws.amazon.com/timestream/latest/developerguide/ts-limits.html */
const MAX_RECORDS_PER_CALL = 100

/**
 * Every record carries Version 1: a redelivered reading re-writes an identical record at the same
 * version, which Timestream accepts, so a write repeated after a crash or a retry is harmless.
 * https://docs.aws.amazon.com/timestream/latest/developerguide/API_WriteRecords.html
 */
const VERSION = 1

/**
 * Columns a metric may not be named: our dimensions and the seq measure, and the names Timestream
 * reserves (`time`, `measure_name`, `measure_value…`, `ts_…`). Such a reading is rejected on its own
 * instead of failing its whole call. https://docs.aws.amazon.com/timestream/latest/developerguide/ts-limits.html#limits.naming
 */
const TAKEN = new Set(['device_id', 'boot', 'fw', 'seq', 'time', 'measure_name'])

/**
 * Telemetry on Timestream for LiveAnalytics: one multi-measure record (`metrics`) per reading, each
 * metric a DOUBLE and `seq` a BIGINT, with device, boot and firmware as dimensions, written in as
 * few calls of up to 100 records as the readings allow.
 *
 * `has` is left out on purpose: a lookup is a query (seconds of latency, billed by data scanned),
 * and a re-written reading is accepted idempotently, so readings older than the dedupe window are
 * simply written again.
 */
export class TimestreamTelemetryStore implements TelemetryStore {
  private readonly maxParallel: number
  private readonly retry: RetryPolicy

  constructor(
    private readonly client: TimestreamWriteClient,
    private readonly options: TimestreamStoreOptions,
  ) {
    this.maxParallel = options.maxParallel ?? 4
    this.retry = options.retry ?? {}
  }

  async write(readings: readonly Reading[]): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = readings.map(() => ({ status: 'stored' }))
    const writable: number[] = []
    readings.forEach((reading, i) => {
      const taken = Object.keys(reading.metrics).find(_isTaken)
      if (taken === undefined) writable.push(i)
      else {
        outcomes[i] = {
          status: 'rejected',
          reason: 'reserved_name',
          message: `metric name ${taken} is reserved in Timestream or taken by a dimension`,
        }
      }
    })
    // A series' readings sit together, and calls of up to 100 are cut from that order whatever the
    // device: the fewest calls (a thousand readings take ten), each series mostly within one call.
    const keys = writable.map((i) => _seriesKey(readings[i] as Reading))
    const order = writable
      .map((_, k) => k)
      .sort((a, b) => (keys[a] as string).localeCompare(keys[b] as string) || a - b)
    const calls = chunk(
      order.map((k) => writable[k] as number),
      MAX_RECORDS_PER_CALL,
    )
    await forEachBounded(calls, this.maxParallel, async (indices) => {
      const batch = indices.map((i) => readings[i] as Reading)
      const rejected = await this.send(this.readingsRequest(batch), `WriteRecords for ${batch[0]?.deviceId}`)
      for (const [at, outcome] of rejected) outcomes[indices[at] as number] = outcome
    })
    return outcomes
  }

  /** Births and last wills, as single-measure `status` records (VARCHAR `online`/`offline`) in the same table. */
  async writeStatus(statuses: readonly StatusUpdate[]): Promise<void> {
    const calls = chunk(statuses, MAX_RECORDS_PER_CALL)
    await forEachBounded(calls, this.maxParallel, async (batch) => {
      const input: WriteRecordsCommandInput = {
        DatabaseName: this.options.database,
        TableName: this.options.table,
        CommonAttributes: {
          MeasureName: 'status',
          MeasureValueType: 'VARCHAR',
          TimeUnit: 'MILLISECONDS',
          Version: VERSION,
        },
        Records: batch.map((s) => ({
          Dimensions: _dimensions(s.deviceId, s.boot, s.fw),
          MeasureValue: s.state,
          Time: String(s.ts ?? s.receivedAt),
        })),
      }
      const rejected = await this.send(input, 'WriteRecords for statuses')
      // No outcome per status to put them in: a refused status fails its batch, named, not dropped.
      if (rejected.size > 0) {
        const detail = [...rejected]
          .map(([at, o]) => `${batch[at]?.deviceId}: ${o.status === 'rejected' ? o.message : o.status}`)
          .join('; ')
        throw new FleetpipeError(`Timestream rejected ${rejected.size} status record(s): ${detail}`)
      }
    })
  }

  /** A call of one series carries its dimensions once, in CommonAttributes; a mixed call, per record. */
  private readingsRequest(batch: readonly Reading[]): WriteRecordsCommandInput {
    const first = batch[0] as Reading
    const series = _seriesKey(first)
    const shared = batch.every((r) => _seriesKey(r) === series)
    return {
      DatabaseName: this.options.database,
      TableName: this.options.table,
      CommonAttributes: {
        ...(shared ? { Dimensions: _dimensions(first.deviceId, first.boot, first.fw) } : {}),
        MeasureName: 'metrics',
        MeasureValueType: 'MULTI',
        TimeUnit: 'MILLISECONDS',
        Version: VERSION,
      },
      Records: batch.map((r) =>
        shared ? _record(r) : { ..._record(r), Dimensions: _dimensions(r.deviceId, r.boot, r.fw) },
      ),
    }
  }

  /**
   * One call, retried while transient. Returns the rejected records by their index in the call;
   * a ValidationException rejects them all (the call as a whole was refused, and will be again).
   */
  private async send(input: WriteRecordsCommandInput, what: string): Promise<Map<number, WriteOutcome>> {
    const rejected = new Map<number, WriteOutcome>()
    const count = input.Records?.length ?? 0
    try {
      await withRetry(what, () => this.client.send(new WriteRecordsCommand(input)), this.retry)
    } catch (error) {
      const name = errorName(error)
      if (name === 'RejectedRecordsException') {
        for (const r of (error as { RejectedRecords?: RejectedRecord[] }).RejectedRecords ?? []) {
          if (r.RecordIndex === undefined || r.RecordIndex < 0 || r.RecordIndex >= count) continue
          const message = r.Reason ?? 'rejected by Timestream'
          rejected.set(r.RecordIndex, {
            status: 'rejected',
            reason: _reasonCode(message, r.ExistingVersion),
            message,
          })
        }
      } else if (name === 'ValidationException') {
        const message = error instanceof Error ? error.message : String(error)
        for (let i = 0; i < count; i++) rejected.set(i, { status: 'rejected', reason: 'validation', message })
      } else throw error
    }
    return rejected
  }
}

function _record(reading: Reading): _Record {
  const values = []
  for (const name in reading.metrics) {
    values.push({ Name: name, Value: String(reading.metrics[name]), Type: 'DOUBLE' as const })
  }
  values.push({ Name: 'seq', Value: String(reading.seq), Type: 'BIGINT' as const })
  return { MeasureValues: values, Time: String(reading.ts) }
}

/** Timestream refuses empty dimension values, so a missing boot or firmware is left out. */
function _dimensions(deviceId: string, boot: string | undefined, fw: string | undefined): Dimension[] {
  const dimensions: Dimension[] = [{ Name: 'device_id', Value: deviceId }]
  if (boot) dimensions.push({ Name: 'boot', Value: boot })
  if (fw) dimensions.push({ Name: 'fw', Value: fw })
  return dimensions
}

function _seriesKey(r: Reading): string {
  return `${r.deviceId}\u0000${r.boot}\u0000${r.fw ?? ''}`
}

function _isTaken(name: string): boolean {
  return TAKEN.has(name) || name.startsWith('measure_value') || name.startsWith('ts_')
}

/** A short code for the quarantine from Timestream's free-text reason. */
function _reasonCode(reason: string, existingVersion: number | undefined): string {
  if (existingVersion !== undefined || /version|already exists/i.test(reason)) return 'version_conflict'
  if (/retention|time range|memory store|timestamp/i.test(reason)) return 'out_of_retention'
  if (/size|too large|exceed|limit/i.test(reason)) return 'too_large'
  return 'rejected'
}
