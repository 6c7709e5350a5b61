import { type IngestDeps, type Rule, sweepFleet } from '@fleetpipe/core'

export interface Sweeper {
  /** Alert transitions the sweeps have delivered. */
  readonly alerts: number
  stop(): Promise<void>
}

/**
 * The local stand-in for each cloud's scheduled sweep (EventBridge Scheduler, a Timer trigger,
 * Cloud Scheduler): every `everyMs`, opens missing-heartbeat alerts for silent devices. One sweep
 * runs at a time; `stop` waits for the one under way.
 */
export function startSweeper(
  deps: IngestDeps,
  rules: readonly Rule[],
  everyMs: number,
  onError: (error: Error) => void,
): Sweeper {
  let alerts = 0
  let running: Promise<void> = Promise.resolve()
  const sweepOnce = async () => {
    try {
      alerts += (await sweepFleet(deps, { rules })).length
    } catch (error) {
      onError(error as Error)
    }
  }
  const timer = rules.some((r) => r.kind === 'heartbeat')
    ? setInterval(() => {
        running = running.then(sweepOnce)
      }, everyMs)
    : undefined
  return {
    get alerts() {
      return alerts
    },
    async stop() {
      clearInterval(timer)
      await running
    },
  }
}
