/**
 * Applying rules to stored readings with state kept in a StateStore. State is loaded once per
 * batch, advanced in device-time order, and saved with a version check; the winner of a
 * conflicting save decides, the loser re-evaluates on fresh state. Transitions are delivered from
 * the saved outbox, then the outbox is cleared.
 */
import { type AlertState, type AlertTransition, advance, emptyAlertState } from './alerts.ts'
import { StateConflictError } from './errors.ts'
import type { AlertSink, CommandPublisher, DeviceCommand, StateStore } from './ports.ts'
import { detect, type Rule, ruleStateKey, selects } from './rules.ts'
import type { Reading } from './wire.ts'

const MAX_ATTEMPTS = 3

interface Work {
  rule: Rule
  deviceId: string
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
    const entries = pending.flatMap((key) => {
      const { rule, deviceId, samples } = work.get(key) as Work
      const current = loaded.get(key) ?? { value: undefined, version: 0 }
      const next = fold(current.value ?? emptyAlertState(), rule, deviceId, samples)
      // Unchanged state (every sample at or before the watermark) needs no write, but a stuck
      // outbox in it is still delivered below.
      const unchanged = next === current.value
      saved.set(key, { state: next, version: unchanged ? current.version : current.version + 1 })
      return unchanged ? [] : [{ key, value: next, expectedVersion: current.version }]
    })
    const conflicts = await deps.state.save(entries)
    pending = conflicts
  }

  const outboxes = [...saved].filter(([, s]) => s.state.outbox.length > 0)
  const transitions = outboxes.flatMap(([, s]) => s.state.outbox)
  if (transitions.length === 0) return []
  await deps.alerts.publish(transitions)
  const commands = transitions.map((t) => t.command).filter((c): c is DeviceCommand => c !== undefined)
  if (commands.length > 0) await deps.commands.send(commands)
  // A conflict here means another invocation saw the same outbox and delivered it too: at least once.
  await deps.state.save(
    outboxes.map(([key, s]) => ({ key, value: { ...s.state, outbox: [] }, expectedVersion: s.version })),
  )
  return transitions
}

function fold(state: AlertState, rule: Rule, deviceId: string, samples: Work['samples']): AlertState {
  for (const { ts, value } of samples) {
    state = advance(state, rule, { deviceId, ts }, detect(rule, state.open !== undefined, value))
  }
  return state
}

function collect(readings: readonly Reading[], rules: readonly Rule[]): Map<string, Work> {
  const work = new Map<string, Work>()
  for (const reading of readings) {
    for (const rule of rules) {
      const value = reading.metrics[rule.metric]
      if (value === undefined || !selects(rule, reading.deviceId)) continue
      const key = ruleStateKey(rule.id, reading.deviceId)
      let item = work.get(key)
      if (!item) {
        item = { rule, deviceId: reading.deviceId, samples: [] }
        work.set(key, item)
      }
      item.samples.push({ ts: reading.ts, value })
    }
  }
  for (const item of work.values()) item.samples.sort((a, b) => a.ts - b.ts)
  return work
}
