import {
  type AlertTransition,
  advance,
  alertsOf,
  emptyRulesState,
  type InboundMessage,
  parseRules,
  type StateStore,
  type TelemetryInput,
} from '../src/index.ts'

export const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)

export function reading(overrides: Partial<TelemetryInput> = {}): TelemetryInput {
  return {
    v: 1,
    deviceId: 'esp32-0001',
    ts: NOW - 1_000,
    seq: 42,
    metrics: { temperature: 23.5, vibration: 0.12, current: 4.2 },
    fw: '1.4.2',
    ...overrides,
  }
}

export function message(body: unknown, overrides: Partial<InboundMessage> = {}): InboundMessage {
  const deviceId = (body as { deviceId?: unknown })?.deviceId
  return {
    topic: `fleet/${typeof deviceId === 'string' ? deviceId : 'esp32-0001'}/telemetry`,
    payload: typeof body === 'string' ? body : JSON.stringify(body),
    receivedAt: NOW,
    source: 'test',
    ...overrides,
  }
}

/** Above 80 °C opens a critical alert and sends `safe-mode`; below 75 clears it. */
export const overTemperature = parseRules([
  {
    id: 'over-temperature',
    kind: 'threshold',
    metric: 'temperature',
    above: 80,
    clear: 75,
    severity: 'critical',
    command: { name: 'safe-mode' },
  },
])

/**
 * The state store as two invocations racing on one device see it: the first two loads wait for
 * each other, so both load before either saves.
 */
export function racingLoads(store: StateStore): StateStore {
  let loads = 0
  let release: () => void = () => {}
  const bothLoaded = new Promise<void>((resolve) => {
    release = resolve
  })
  return {
    async load(keys) {
      const loaded = await store.load(keys)
      if (++loads === 2) release()
      if (loads <= 2) await bothLoaded
      return loaded as never
    },
    save: (entries) => store.save(entries),
  }
}

/** Real transitions from the core's alert lifecycle: the device overheats (opened, with `safe-mode`), then cools (cleared). */
export function overheatAndCool(deviceId = 'esp32-0001', at = NOW): AlertTransition[] {
  const [rule] = overTemperature
  if (!rule) throw new Error('fixture rule missing')
  const state = emptyRulesState()
  advance(state, rule, deviceId, at, 85.2)
  advance(state, rule, deviceId, at + 60_000, 71.4)
  return alertsOf(state, rule.id).outbox
}
