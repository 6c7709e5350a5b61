/** Functions v4 `app.timer`, once a minute → the heartbeat sweep over every device PostgreSQL knows. */
import type { InvocationContext, Timer, TimerFunctionOptions } from '@azure/functions'
import { type IngestDeps, type IngestOptions, sweepFleet } from '@fleetpipe/core'

/** The timer function's name in the app (and in Application Insights). */
export const SWEEP_FUNCTION_NAME = 'sweep'

/**
 * NCRONTAB with seconds (`{second} {minute} {hour} {day} {month} {day-of-week}`): second 0 of every
 * minute, in UTC (no WEBSITE_TIME_ZONE is set). `runOnStartup` stays off: on Flex Consumption an
 * instance starts on every scale-out, and each start would sweep once more. `useMonitor` keeps its
 * default (on for schedules of a minute or more): the schedule's status lives in the host storage
 * (AzureWebJobsStorage), as does the lock that runs the timer on one instance at a time.
 * https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#ncrontab-expressions
 */
export const sweepTrigger = {
  schedule: '0 * * * * *',
} as const satisfies Omit<TimerFunctionOptions, 'handler'>

export interface SweepHandlerOptions extends IngestOptions {
  /** On every log line, e.g. `prod`. */
  stage?: string
}

export type SweepHandler = (timer: Timer, context: InvocationContext) => Promise<{ alerts: number }>

/**
 * Opens a missing-heartbeat alert for each device silent for longer than a heartbeat rule allows,
 * and delivers what a crashed invocation left in a device's outbox. It logs one JSON line
 * (`traces | where message has '"event":"sweep"'`). A failure throws, so Application Insights
 * counts a failed invocation; no retry policy: the next minute's sweep finds the same devices.
 *
 * @example
 * app.timer('sweep', { ...sweepTrigger, handler: createSweepHandler(deps, { rules }) })
 */
export function createSweepHandler(deps: IngestDeps, options: SweepHandlerOptions): SweepHandler {
  return async (timer, context) => {
    const transitions = await sweepFleet(deps, options)
    context.log(
      JSON.stringify({
        event: 'sweep',
        stage: options.stage,
        alerts: transitions.length,
        // A schedule missed while the app was down or busy: this run makes up for it.
        isPastDue: timer.isPastDue,
      }),
    )
    return { alerts: transitions.length }
  }
}
