import type { AlertSink, AlertTransition } from '@fleetpipe/core'
import type { Sql } from './sql.ts'

/**
 * Alerts and their history. Delivery is at least once, so each transition is applied idempotently:
 * the history is keyed by (alert, type, time) and only a new event moves the alert row.
 */
export class PostgresAlertSink implements AlertSink {
  constructor(private readonly sql: Sql) {}

  async publish(transitions: readonly AlertTransition[]): Promise<void> {
    if (transitions.length === 0) return
    await this.sql.transaction(async (tx) => {
      for (const t of transitions) {
        const a = t.alert
        await tx.query(
          `INSERT INTO alerts (id, device_id, rule_id, kind, metric, severity, state, opened_at, value, threshold,
             message, model_version)
           VALUES ($1, $2, $3, $4, $5, $6, 'open', timestamptz 'epoch' + $7::bigint * interval '1 millisecond', $8,
             $9, $10, $11)
           ON CONFLICT (id) DO NOTHING`,
          [
            a.id,
            a.deviceId,
            a.ruleId,
            a.kind,
            a.metric,
            a.severity,
            a.openedAt,
            a.value,
            a.threshold,
            a.message,
            a.modelVersion ?? null,
          ],
        )
        const fresh = await tx.query(
          `INSERT INTO alert_events (alert_id, type, at, value, message)
           VALUES ($1, $2, timestamptz 'epoch' + $3::bigint * interval '1 millisecond', $4, $5)
           ON CONFLICT DO NOTHING RETURNING alert_id`,
          [a.id, t.type, t.at, t.value, t.message],
        )
        if (fresh.length === 0) continue
        if (t.type === 'cleared') {
          await tx.query(
            `UPDATE alerts SET state = 'cleared', cleared_at = timestamptz 'epoch' + $2::bigint * interval '1 millisecond'
             WHERE id = $1`,
            [a.id, t.at],
          )
        } else if (t.type === 'escalated') {
          await tx.query('UPDATE alerts SET severity = $2 WHERE id = $1', [a.id, a.severity])
        }
      }
    })
  }

  /**
   * Marks an alert as seen by someone (`fleetpipe alerts ack ID`): it stays open until its rule
   * clears it, and keeps the first acknowledgement. Answers whether the alert exists.
   */
  async acknowledge(id: string, at: number): Promise<boolean> {
    const rows = await this.sql.query(
      `UPDATE alerts
       SET acknowledged_at = coalesce(acknowledged_at, timestamptz 'epoch' + $2::bigint * interval '1 millisecond')
       WHERE id = $1 RETURNING id`,
      [id, at],
    )
    return rows.length > 0
  }
}
