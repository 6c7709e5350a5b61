/** Cloud Scheduler (HTTP, OIDC) → Cloud Run function → the heartbeat sweep over every known device. */
import { describeError, type IngestDeps, sweepFleet } from '@fleetpipe/core'
import type { Request, Response } from '@google-cloud/functions-framework'
import { createLogger } from './logger.ts'
import type { HandlerOptions } from './pubsub.ts'

export type SweepHandler = (req: Request, res: Response) => Promise<void>

/**
 * Opens a missing-heartbeat alert for each device silent for longer than a heartbeat rule allows,
 * and delivers what a crashed invocation left in a device's outbox; answers 200 with
 * `{ alerts: n }`. The request's body carries nothing the sweep needs, so it is not read. A failure
 * answers 500, which Cloud Scheduler retries under the job's retry config; the next minute's sweep
 * finds the same devices anyway.
 * https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#retryconfig
 *
 * @example
 * functions.http('sweep', createSweepHandler(deps, { stage: 'dev', rules }))
 */
export function createSweepHandler(deps: IngestDeps, options: HandlerOptions): SweepHandler {
  const logger = options.logger ?? createLogger({ stage: options.stage })
  return async (_req, res) => {
    try {
      const transitions = await sweepFleet(deps, options)
      logger.info('swept', { alerts: transitions.length })
      res.status(200).json({ alerts: transitions.length })
    } catch (error) {
      logger.error('sweep failed, Cloud Scheduler will retry', { detail: describeError(error) })
      res.status(500).json({ error: describeError(error) })
    }
  }
}
