/** EventBridge Scheduler → Lambda, once a minute: the heartbeat sweep over every known device. */
import { MetricUnit } from '@aws-lambda-powertools/metrics'
import { type IngestDeps, sweepFleet } from '@fleetpipe/core'
import type { Context } from 'aws-lambda'
import { type HandlerOptions, observers, startInvocation } from './_report.ts'

export type SweepHandler = (event: unknown, context?: Context) => Promise<{ alerts: number }>

/**
 * Opens a missing-heartbeat alert for each device silent for longer than a heartbeat rule allows,
 * and delivers what a crashed invocation left in a device's outbox. The schedule's event carries
 * nothing the sweep needs, so it is not read. A failure throws: the scheduler retries it, and the
 * next minute's sweep finds the same devices anyway.
 */
export function createSweepHandler(deps: IngestDeps, options: HandlerOptions): SweepHandler {
  const obs = observers(options)
  return async (_event, context) => {
    startInvocation(obs, context)
    const transitions = await sweepFleet(deps, options)
    obs.logger.info('swept', { alerts: transitions.length })
    obs.metrics.addMetric('sweepAlerts', MetricUnit.Count, transitions.length)
    obs.metrics.publishStoredMetrics()
    return { alerts: transitions.length }
  }
}
