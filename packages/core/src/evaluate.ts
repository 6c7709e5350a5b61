/**
 * Applying rules to stored readings with state kept in a StateStore. State is loaded once per
 * batch, advanced in device-time order, and saved with a version check; the winner of a
 * conflicting save decides, the loser re-evaluates on fresh state. Transitions are delivered from
 * the saved outbox, then the outbox is cleared.
 */
import { type AlertState, type AlertTransition, advance, emptyAlertState } from './alerts.ts'
import { StateConflictError } from './errors.ts'
import type { AlertSink, CommandPublisher, DeviceCommand, StateStore } from './ports.ts'
import { type Rule, ruleStateKey, selects } from './rules.ts'
import type { Reading } from './wire.ts'

const MAX_ATTEMPTS = 3

interface Work {
  rule: Rule
  deviceId: string
  /** Device times and values, in pairs, sorted by time before folding. */
  samples: { ts: number; value: number }[]
}

export async function applyRules(
  readings: readonly Reading[],
  rules: readonly Rule[],
  deps: { state: StateStore; alerts: AlertSink; commands: CommandPublisher },
): Promise<AlertTransition[]> {
  const work = collect(readings, rules)
  if (work.size === 0) return []

  let pending = [...work.keys()]
  const saved = new Map<string, { state: AlertState; version: number }>()
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > MAX_ATTEMPTS) {
      throw new StateConflictError(`rule state kept changing for ${pending.length} keys, e.g. ${pending[0]}`)
    }
    const loaded = await deps.state.load<AlertState>(pending)
    const entries: { key: string; value: AlertState; expectedVersion: number }[] = []
    for (const key of pending) {
      const { rule, deviceId, samples } = work.get(key) as Work
      const current = loaded.get(key) ?? { value: undefined, version: 0 }
      const next = fold(current.value, rule, deviceId, samples)
      // Unchanged state (every sample at or before the watermark) needs no write, but a stuck
      // outbox in it is still delivered below.
      if (next === current.value) saved.set(key, { state: next, version: current.version })
      else {
        saved.set(key, { state: next, version: current.version + 1 })
        entries.push({ key, value: next, expectedVersion: current.version })
      }
    }
    pending = await deps.state.save(entries)
  }

  const outboxes = [...saved].filter(([, s]) => s.state.outbox.length > 0)
  if (outboxes.length === 0) return []
  const transitions = outboxes.flatMap(([, s]) => s.state.outbox)
  await deps.alerts.publish(transitions)
  const commands = transitions.map((t) => t.command).filter((c): c is DeviceCommand => c !== undefined)
  if (commands.length > 0) await deps.commands.send(commands)
  // A conflict here means another invocation saw the same outbox and delivered it too: at least once.
  await deps.state.save(
    outboxes.map(([key, s]) => ({ key, value: { ...s.state, outbox: [] }, expectedVersion: s.version })),
  )
  return transitions
}

/** The state after the samples; the saved state itself when none of them is newer than its watermark. */
function fold(saved: AlertState | undefined, rule: Rule, deviceId: string, samples: Work['samples']) {
  const base = saved ?? emptyAlertState()
  const newest = samples[samples.length - 1]
  if (saved && (!newest || newest.ts <= saved.watermark)) return saved
  const draft: AlertState = { ...base, outbox: [...base.outbox] }
  for (const { ts, value } of samples) advance(draft, rule, deviceId, ts, value)
  return draft
}

function collect(readings: readonly Reading[], rules: readonly Rule[]): Map<string, Work> {
  const work = new Map<string, Work>()
  for (const rule of rules) {
    // Keyed by device first, so the state key string is built once per device, not per reading.
    const byDevice = new Map<string, Work>()
    for (const reading of readings) {
      const value = reading.metrics[rule.metric]
      if (value === undefined || !selects(rule, reading.deviceId)) continue
      let item = byDevice.get(reading.deviceId)
      if (!item) {
        item = { rule, deviceId: reading.deviceId, samples: [] }
        byDevice.set(reading.deviceId, item)
        work.set(ruleStateKey(rule.id, reading.deviceId), item)
      }
      item.samples.push({ ts: reading.ts, value })
    }
  }
  for (const item of work.values()) if (item.samples.length > 1) item.samples.sort((a, b) => a.ts - b.ts)
  return work
}
