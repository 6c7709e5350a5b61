/** What a user asks of the store: latest readings, a metric's series, alerts, status. */
import type { Sql } from './sql.ts'

export interface LatestReading {
  deviceId: string
  ts: number
  seq: number
  boot: string
  metrics: Record<string, number>
  /** `online` / `offline` from the device's last birth or will, when known. */
  status?: string
}

export interface SeriesPoint {
  ts: number
  /** The value, or the bucket's mean. */
  value: number
  min?: number
  max?: number
  count?: number
}

export interface AlertRow {
  id: string
  deviceId: string
  ruleId: string
  kind: string
  metric: string
  severity: string
  state: 'open' | 'cleared'
  openedAt: number
  clearedAt?: number
  acknowledgedAt?: number
  value: number
  threshold: number
  message: string
  modelVersion?: string
}

const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`

export class Queries {
  constructor(private readonly sql: Sql) {}

  async latest(deviceId?: string): Promise<LatestReading[]> {
    const rows = await this.sql.query<{
      device_id: string
      ts: number
      seq: string | number
      boot: string
      metrics: Record<string, number>
      status: string | null
    }>(
      `SELECT DISTINCT ON (t.device_id) t.device_id, ${ms('t.ts')} AS ts, t.seq, t.boot, t.metrics, d.state AS status
       FROM telemetry t LEFT JOIN devices d ON d.device_id = t.device_id
       WHERE $1::text IS NULL OR t.device_id = $1
       ORDER BY t.device_id, t.ts DESC, t.seq DESC`,
      [deviceId ?? null],
    )
    return rows.map((r) => ({
      deviceId: r.device_id,
      ts: r.ts,
      seq: Number(r.seq),
      boot: r.boot,
      metrics: r.metrics,
      status: r.status ?? undefined,
    }))
  }

  /** A metric's readings in [from, to); with `bucketMs`, mean/min/max/count per time bucket. */
  async series(options: {
    deviceId: string
    metric: string
    from: number
    to: number
    bucketMs?: number
  }): Promise<SeriesPoint[]> {
    const { deviceId, metric, from, to, bucketMs } = options
    const range = `device_id = $1 AND metrics ? $2
      AND ts >= timestamptz 'epoch' + $3::bigint * interval '1 millisecond'
      AND ts <  timestamptz 'epoch' + $4::bigint * interval '1 millisecond'`
    if (!bucketMs) {
      const rows = await this.sql.query<{ ts: number; value: number }>(
        `SELECT ${ms('ts')} AS ts, (metrics ->> $2)::float8 AS value FROM telemetry WHERE ${range} ORDER BY ts`,
        [deviceId, metric, from, to],
      )
      return rows
    }
    const rows = await this.sql.query<{
      ts: number
      value: number
      min: number
      max: number
      count: string | number
    }>(
      `SELECT ${ms('bucket')} AS ts, avg(v) AS value, min(v) AS min, max(v) AS max, count(*) AS count
       FROM (SELECT date_bin($5::bigint * interval '1 millisecond', ts, timestamptz 'epoch') AS bucket,
                    (metrics ->> $2)::float8 AS v
             FROM telemetry WHERE ${range}) b
       GROUP BY bucket ORDER BY bucket`,
      [deviceId, metric, from, to, bucketMs],
    )
    return rows.map((r) => ({ ...r, value: Number(r.value), count: Number(r.count) }))
  }

  async alerts(
    filter: { state?: 'open' | 'cleared'; deviceId?: string; limit?: number } = {},
  ): Promise<AlertRow[]> {
    const rows = await this.sql.query<{
      id: string
      device_id: string
      rule_id: string
      kind: string
      metric: string
      severity: string
      state: 'open' | 'cleared'
      opened_at: number
      cleared_at: number | null
      acknowledged_at: number | null
      value: number
      threshold: number
      message: string
      model_version: string | null
    }>(
      `SELECT id, device_id, rule_id, kind, metric, severity, state, ${ms('opened_at')} AS opened_at,
              ${ms('cleared_at')} AS cleared_at, ${ms('acknowledged_at')} AS acknowledged_at, value, threshold, message,
              model_version
       FROM alerts
       WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR device_id = $2)
       ORDER BY opened_at DESC LIMIT $3`,
      [filter.state ?? null, filter.deviceId ?? null, filter.limit ?? 100],
    )
    return rows.map((r) => ({
      id: r.id,
      deviceId: r.device_id,
      ruleId: r.rule_id,
      kind: r.kind,
      metric: r.metric,
      severity: r.severity,
      state: r.state,
      openedAt: r.opened_at,
      clearedAt: r.cleared_at ?? undefined,
      acknowledgedAt: r.acknowledged_at ?? undefined,
      value: r.value,
      threshold: r.threshold,
      message: r.message,
      modelVersion: r.model_version ?? undefined,
    }))
  }

  /**
   * Readings missing between those that arrived, by `seq`, in each device's boots, counting rows
   * received since `since` (ms): what devices numbered and never got here — their own drops, a
   * dropout, or a broker's. Not what follows a boot's last arrival: nothing here tells those from
   * readings not yet sent. Seq ranges of boots without an id may overlap, which can hide a gap but
   * never invents one.
   */
  async gaps(options: { since: number; devicePrefix?: string }): Promise<number> {
    const [row] = await this.sql.query<{ missing: string | number | null }>(
      `SELECT sum(span - seen) AS missing FROM (
         SELECT max(seq) - min(seq) + 1 AS span, count(DISTINCT seq) AS seen
         FROM telemetry
         WHERE received_at >= to_timestamp($1::float8 / 1000)
           AND ($2::text IS NULL OR starts_with(device_id, $2))
         GROUP BY device_id, boot) AS boots`,
      [options.since, options.devicePrefix ?? null],
    )
    return Number(row?.missing ?? 0)
  }

  async counts(): Promise<{ readings: number; devices: number; openAlerts: number; quarantined: number }> {
    const [row] = await this.sql.query<Record<string, string | number>>(
      `SELECT (SELECT count(*) FROM telemetry) AS readings,
              (SELECT count(DISTINCT device_id) FROM telemetry) AS devices,
              (SELECT count(*) FROM alerts WHERE state = 'open') AS open_alerts,
              (SELECT count(*) FROM quarantine WHERE replayed_at IS NULL) AS quarantined`,
    )
    return {
      readings: Number(row?.readings ?? 0),
      devices: Number(row?.devices ?? 0),
      openAlerts: Number(row?.open_alerts ?? 0),
      quarantined: Number(row?.quarantined ?? 0),
    }
  }
}
