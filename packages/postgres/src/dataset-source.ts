/**
 * A device type's readings for a retraining dataset (retrain's `DatasetSource`, which
 * `StoreDatasetExporter` writes into the bucket): oldest first, each labelled anomalous when one of
 * its device's alerts was open at its time (from the reading that opened it to the one that cleared
 * it, which is normal again), normal otherwise. Heartbeat alerts say nothing about a
 * reading's values and do not label.
 */
import { type DeviceTypeSpec, deviceTypeOf, type Reading } from '@fleetpipe/core'
import type { Sql } from './sql.ts'

/** Rows per query: the result of one is held in memory. */
const PAGE = 5_000

const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`
const at = (param: string) => `timestamptz 'epoch' + ${param}::bigint * interval '1 millisecond'`

interface Row {
  ts: number
  device_id: string
  boot: string
  seq: string | number
  metrics: Record<string, number>
  fw: string | null
}

export class PostgresDatasetSource {
  constructor(
    private readonly sql: Sql,
    private readonly options: { deviceTypes: readonly DeviceTypeSpec[] },
  ) {}

  async *rows(request: {
    deviceType: string
    since: number
    until: number
    limit: number
  }): AsyncIterable<{ reading: Reading; label?: boolean }> {
    const { deviceType, since, until, limit } = request
    const devices = await this.devicesOf(deviceType, since, until)
    if (devices.length === 0) return
    const open = await this.alertWindows(devices, since, until)
    // The newest `limit` rows: start from the oldest of them.
    const [first] = await this.sql.query<{ ts: number | null }>(
      `SELECT min(ts) AS ts FROM (
         SELECT ${ms('ts')} AS ts FROM telemetry
         WHERE device_id = ANY($1::text[]) AND ts >= ${at('$2')} AND ts < ${at('$3')}
         ORDER BY ts DESC LIMIT $4) newest`,
      [devices, since, until, limit],
    )
    if (first?.ts === null || first?.ts === undefined) return
    let after: [number, string, string, string] | undefined
    let left = limit
    while (left > 0) {
      const rows = await this.sql.query<Row>(
        `SELECT ${ms('ts')} AS ts, device_id, boot, seq::text AS seq, metrics, fw FROM telemetry
         WHERE device_id = ANY($1::text[]) AND ts >= ${at('$2')} AND ts < ${at('$3')}
           AND ($5::float8 IS NULL OR (${ms('ts')}, device_id, boot, seq) > ($5, $6::text, $7::text, $8::bigint))
         ORDER BY ts, device_id, boot, seq LIMIT $4`,
        [
          devices,
          Math.max(since, first.ts),
          until,
          Math.min(PAGE, left),
          ...(after ?? [null, null, null, null]),
        ],
      )
      for (const r of rows) {
        const reading: Reading = {
          deviceId: r.device_id,
          boot: r.boot,
          seq: Number(r.seq),
          ts: r.ts,
          metrics: r.metrics,
        }
        if (r.fw !== null) reading.fw = r.fw
        const label = open.get(r.device_id)?.some(([from, to]) => r.ts >= from && r.ts < to) ?? false
        yield { reading, label }
      }
      left -= rows.length
      const last = rows.at(-1)
      if (!last || rows.length < PAGE) return
      after = [last.ts, last.device_id, last.boot, String(last.seq)]
    }
  }

  /** Device types are globs over ids, first match wins: decided here, as ingest decides it, not in SQL. */
  private async devicesOf(deviceType: string, since: number, until: number): Promise<string[]> {
    const rows = await this.sql.query<{ device_id: string }>(
      `SELECT DISTINCT device_id FROM telemetry WHERE ts >= ${at('$1')} AND ts < ${at('$2')}`,
      [since, until],
    )
    return rows
      .map((r) => r.device_id)
      .filter((id) => deviceTypeOf(this.options.deviceTypes, id) === deviceType)
  }

  /** Per device, the [opened, cleared) spans of its alerts that overlap the range (still open: to the end). */
  private async alertWindows(
    devices: string[],
    since: number,
    until: number,
  ): Promise<Map<string, [number, number][]>> {
    const rows = await this.sql.query<{ device_id: string; opened_at: number; cleared_at: number | null }>(
      `SELECT device_id, ${ms('opened_at')} AS opened_at, ${ms('cleared_at')} AS cleared_at FROM alerts
       WHERE device_id = ANY($1::text[]) AND kind <> 'heartbeat'
         AND opened_at < ${at('$3')} AND (cleared_at IS NULL OR cleared_at >= ${at('$2')})`,
      [devices, since, until],
    )
    const windows = new Map<string, [number, number][]>()
    for (const r of rows) {
      const list = windows.get(r.device_id) ?? []
      list.push([r.opened_at, r.cleared_at ?? Number.POSITIVE_INFINITY])
      windows.set(r.device_id, list)
    }
    return windows
  }
}
