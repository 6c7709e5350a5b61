/**
 * Drift: per device type, a tumbling window (processing time, 1 h by default) of readings stored
 * and alerts opened, kept in the StateStore under `drift/{deviceType}`. When a window closes with
 * more opened alerts per 1,000 readings than the threshold, it asks the PipelineTrigger for a
 * retraining run named `drift-{deviceType}-{windowStart}`.
 *
 * The run waits in the saved state (an outbox, as alert transitions do) until the trigger has it:
 * the invocation whose save closed the window starts it, and one that finds it older than
 * STALE_DUE_MS (its closer died, or its start failed) starts it again. So a window's run is started
 * once in a race and at least once after a crash; the idempotency key makes a repeat harmless.
 */
import type { AlertTransition } from './alerts.ts'
import type { InboundMessage } from './decode.ts'
import { StateConflictError } from './errors.ts'
import type { IngestResult } from './ingest.ts'
import type { Clock, PipelineRun, PipelineTrigger, StateStore } from './ports.ts'
import { type DeviceTypeSpec, deviceTypeOf } from './rules.ts'
import { parseTopic } from './wire.ts'

export const DRIFT_STATE_PREFIX = 'drift/'
export const driftStateKey = (deviceType: string) => `${DRIFT_STATE_PREFIX}${deviceType}`

/** A run left waiting this long was left by an invocation that died or failed to start it. */
export const STALE_DUE_MS = 60_000

const MAX_ATTEMPTS = 5

export interface DriftOptions {
  /** Which device type a device is (the rules file's `deviceTypes`); devices of no type are not counted. */
  deviceTypes: readonly DeviceTypeSpec[]
  /** Opened alerts per 1,000 readings above which a closed window asks for retraining. */
  threshold: number
  /** The window's length; 1 h unless told. Windows are aligned to the epoch. */
  windowMs?: number
  /** A window with fewer readings asks for nothing: one alert in ten readings is noise, not drift. */
  minReadings?: number
}

export interface DriftDeps {
  state: StateStore
  trigger: PipelineTrigger
  clock: Clock
}

/** What the state store keeps per device type. */
export interface DriftState {
  windowStart: number
  readings: number
  alerts: number
  /** Closed windows' runs the trigger has yet to confirm, and since when they wait. */
  due: PipelineRun[]
  dueSince?: number
}

/** A device type's readings stored and alerts opened in one batch. */
export interface DriftTally {
  readings: number
  alerts: number
}

export const DEFAULT_DRIFT_WINDOW_MS = 3_600_000
export const DEFAULT_DRIFT_MIN_READINGS = 100

/**
 * Per device type, the readings one `ingest` call stored and the alerts it opened. A record carries
 * its message's index, and a reading its message's device (decode refuses any other), so the
 * topic names the device.
 */
export function driftTally(
  messages: readonly InboundMessage[],
  result: Pick<IngestResult, 'records' | 'transitions'>,
  deviceTypes: readonly DeviceTypeSpec[],
): Map<string, DriftTally> {
  const tallies = new Map<string, DriftTally>()
  const types = new Map<string, string | undefined>()
  const of = (deviceId: string) => {
    if (!types.has(deviceId)) types.set(deviceId, deviceTypeOf(deviceTypes, deviceId))
    const type = types.get(deviceId)
    if (type === undefined) return undefined
    let t = tallies.get(type)
    if (!t) {
      t = { readings: 0, alerts: 0 }
      tallies.set(type, t)
    }
    return t
  }
  for (const record of result.records) {
    if (record.kind !== 'reading' || record.outcome !== 'stored') continue
    const topic = messages[record.message]?.topic
    const deviceId = topic === undefined ? undefined : parseTopic(topic)?.deviceId
    const t = deviceId === undefined ? undefined : of(deviceId)
    if (t) t.readings++
  }
  for (const transition of result.transitions as readonly AlertTransition[]) {
    if (transition.type !== 'opened') continue
    const t = of(transition.alert.deviceId)
    if (t) t.alerts++
  }
  return tallies
}

/** Opened alerts per 1,000 readings, to two decimals. */
export function anomalyRate(readings: number, alerts: number): number {
  return readings === 0 ? 0 : Math.round((alerts * 100_000) / readings) / 100
}

/**
 * Watches the anomaly rate of each device type and asks for retraining when it drifts up. Call
 * `observe` after each `ingest` with its messages and result.
 *
 * @example
 * const drift = new DriftWatch({ state, trigger, clock }, { deviceTypes, threshold: 20 })
 * const result = await ingest(messages, deps, { rules })
 * await drift.observe(messages, result)
 */
export class DriftWatch {
  readonly windowMs: number
  readonly minReadings: number

  constructor(
    private readonly deps: DriftDeps,
    private readonly options: DriftOptions,
  ) {
    this.windowMs = options.windowMs ?? DEFAULT_DRIFT_WINDOW_MS
    this.minReadings = options.minReadings ?? DEFAULT_DRIFT_MIN_READINGS
    if (!(this.windowMs > 0)) throw new RangeError('the drift window must be longer than 0 ms')
  }

  /**
   * Adds the batch to its device types' windows, closes the windows that have ended, and starts
   * the runs they ask for. Returns the runs it started. Throws when the state keeps conflicting or
   * the trigger fails; the runs then stay due, and a later call starts them.
   */
  async observe(
    messages: readonly InboundMessage[],
    result: Pick<IngestResult, 'records' | 'transitions'>,
  ): Promise<PipelineRun[]> {
    const tallies = driftTally(messages, result, this.options.deviceTypes)
    if (tallies.size === 0) return []
    const now = this.deps.clock.now()
    const windowStart = Math.floor(now / this.windowMs) * this.windowMs
    const toStart = new Map<string, PipelineRun[]>()

    let pending = [...tallies.keys()]
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_ATTEMPTS)
        throw new StateConflictError(`drift state kept changing, e.g. ${driftStateKey(pending[0] as string)}`)
      const loaded = await this.deps.state.load<DriftState>(pending.map(driftStateKey))
      const drafts = pending.map((type) => {
        const saved = loaded.get(driftStateKey(type))
        const { state, mine } = this.#advance(
          type,
          saved?.value,
          tallies.get(type) as DriftTally,
          windowStart,
        )
        // Ours to start: what our save closes, and what others left waiting too long.
        const stale = state.dueSince !== undefined && now - state.dueSince >= STALE_DUE_MS
        const runs = stale ? state.due : mine
        if (runs.length > 0 || (state.due.length > 0 && state.dueSince === undefined)) state.dueSince = now
        return { type, state, runs, version: saved?.version ?? 0 }
      })
      const conflicts = new Set(
        await this.deps.state.save(
          drafts.map((d) => ({ key: driftStateKey(d.type), value: d.state, expectedVersion: d.version })),
        ),
      )
      for (const d of drafts) {
        if (!conflicts.has(driftStateKey(d.type)) && d.runs.length > 0) toStart.set(d.type, d.runs)
      }
      pending = drafts.filter((d) => conflicts.has(driftStateKey(d.type))).map((d) => d.type)
    }
    return this.#start(toStart)
  }

  /** The state after adding a batch at `windowStart`, and the run that closing a window asks for. */
  #advance(
    type: string,
    saved: DriftState | undefined,
    batch: DriftTally,
    windowStart: number,
  ): { state: DriftState; mine: PipelineRun[] } {
    if (!saved) return { state: { windowStart, ...batch, due: [] }, mine: [] }
    // A clock behind the saved window's (another invocation's) counts in the open window.
    if (windowStart <= saved.windowStart) {
      saved.readings += batch.readings
      saved.alerts += batch.alerts
      return { state: saved, mine: [] }
    }
    const run = this.#runFor(type, saved)
    const state: DriftState = { windowStart, ...batch, due: saved.due }
    if (saved.dueSince !== undefined) state.dueSince = saved.dueSince
    if (!run) return { state, mine: [] }
    state.due = [...saved.due, run]
    return { state, mine: [run] }
  }

  #runFor(deviceType: string, closed: DriftState): PipelineRun | undefined {
    const { windowStart, readings, alerts } = closed
    const rate = anomalyRate(readings, alerts)
    if (readings < this.minReadings || rate <= this.options.threshold) return undefined
    return {
      idempotencyKey: `drift-${deviceType}-${windowStart}`,
      reason: 'drift',
      detail: { deviceType, windowStart, windowEnd: windowStart + this.windowMs, readings, alerts, rate },
    }
  }

  /**
   * Starts the runs, then takes the started ones out of the saved states (version check; a state
   * changed meanwhile is loaded again). A run whose start failed is marked stale at once, so the
   * next call starts it rather than wait.
   */
  async #start(toStart: Map<string, PipelineRun[]>): Promise<PipelineRun[]> {
    if (toStart.size === 0) return []
    const started = new Set<string>()
    let failure: unknown
    for (const runs of toStart.values()) {
      for (const run of runs) {
        try {
          await this.deps.trigger.start(run)
          started.add(run.idempotencyKey)
        } catch (error) {
          failure ??= error
        }
      }
    }
    let pending = [...toStart.keys()]
    for (let attempt = 1; pending.length > 0 && attempt <= MAX_ATTEMPTS; attempt++) {
      const loaded = await this.deps.state.load<DriftState>(pending.map(driftStateKey))
      const drafts = pending.flatMap((type) => {
        const saved = loaded.get(driftStateKey(type))
        if (!saved?.value) return []
        const state = saved.value
        state.due = state.due.filter((run) => !started.has(run.idempotencyKey))
        if (state.due.length === 0) delete state.dueSince
        else if (failure !== undefined) state.dueSince = 0
        return [{ key: driftStateKey(type), type, value: state, expectedVersion: saved.version }]
      })
      const conflicts = new Set(await this.deps.state.save(drafts))
      pending = drafts.filter((d) => conflicts.has(d.key)).map((d) => d.type)
    }
    if (failure !== undefined) throw failure
    return [...toStart.values()].flatMap((runs) => runs.filter((r) => started.has(r.idempotencyKey)))
  }
}
