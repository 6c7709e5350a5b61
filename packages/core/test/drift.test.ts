import { describe, expect, it } from 'vitest'
import {
  type DeviceTypeSpec,
  DriftWatch,
  driftStateKey,
  driftTally,
  emptyCounts,
  type InboundMessage,
  type IngestResult,
  ingest,
  type PipelineRun,
  type PipelineTrigger,
  STALE_DUE_MS,
} from '../src/index.ts'
import { ManualClock, memoryDeps } from '../src/memory.ts'
import { message, NOW, overTemperature, reading } from './_fixtures.ts'

const HOUR = 3_600_000
const deviceTypes: DeviceTypeSpec[] = [
  { name: 'env', devices: 'env-*' },
  { name: 'motor', devices: 'motor-*' },
]
/** Aligned to a window, so `advance(HOUR)` closes it. */
const START = Math.floor(NOW / HOUR) * HOUR

/** Counts starts, as a Step Functions or EventBridge call would arrive; fails when told. */
class FakeTrigger implements PipelineTrigger {
  readonly started: PipelineRun[] = []
  failures = 0
  async start(run: PipelineRun): Promise<void> {
    if (this.failures > 0) {
      this.failures--
      throw new Error('PutEvents throttled')
    }
    this.started.push(run)
  }
}

function setup(options: { threshold?: number; minReadings?: number } = {}) {
  const clock = new ManualClock(START + 60_000)
  const deps = memoryDeps(clock)
  const trigger = new FakeTrigger()
  const drift = new DriftWatch(
    { state: deps.state, trigger, clock },
    { deviceTypes, threshold: options.threshold ?? 50, minReadings: options.minReadings ?? 10 },
  )
  let seq = 0
  /** Ingests `count` readings per device, `hot` of them over 80 °C (each opens, the next clears). */
  const batch = async (deviceIds: string[], count: number, hot = 0) => {
    const messages: InboundMessage[] = []
    for (const deviceId of deviceIds) {
      for (let i = 0; i < count; i++) {
        seq++
        const temperature = i < hot * 2 ? (i % 2 === 0 ? 90 : 20) : 20
        const ts = clock.now() - 30_000 + seq
        messages.push(message(reading({ deviceId, seq, ts, metrics: { temperature } }), { receivedAt: ts }))
      }
    }
    const result = await ingest(messages, deps, { rules: overTemperature })
    return { messages, result }
  }
  return { clock, deps, trigger, drift, batch }
}

describe('driftTally', () => {
  it('counts stored readings by their message’s device and opened alerts by the alert’s device', async () => {
    const { batch } = setup()
    const { messages, result } = await batch(['motor-1', 'env-1', 'pump-1'], 4, 1)
    // A duplicate and a refused record do not count.
    result.records.push(
      { message: 0, kind: 'reading', outcome: 'duplicate' },
      { message: 0, kind: 'message', outcome: 'quarantined' },
    )
    const tallies = driftTally(messages, result, deviceTypes)
    expect(Object.fromEntries(tallies)).toEqual({
      motor: { readings: 4, alerts: 1 },
      env: { readings: 4, alerts: 1 },
    })
  })
})

describe('DriftWatch', () => {
  it('asks for nothing while the closed window’s rate stays at or below the threshold', async () => {
    const { clock, drift, trigger, batch } = setup({ threshold: 50 })
    // 2 alerts in 40 readings: 50 per 1,000, not above it.
    const first = await batch(['motor-1'], 40, 2)
    expect(first.result.transitions.filter((t) => t.type === 'opened')).toHaveLength(2)
    expect(await drift.observe(first.messages, first.result)).toEqual([])
    clock.advance(HOUR)
    const next = await batch(['motor-1'], 5)
    expect(await drift.observe(next.messages, next.result)).toEqual([])
    expect(trigger.started).toEqual([])
  })

  it('starts one run for a window above the threshold, with the window in its detail', async () => {
    const { clock, drift, trigger, batch, deps } = setup({ threshold: 50 })
    const a = await batch(['motor-1', 'motor-2'], 20, 2)
    await drift.observe(a.messages, a.result)
    const b = await batch(['env-1'], 20)
    await drift.observe(b.messages, b.result)
    clock.advance(HOUR)
    const c = await batch(['motor-1', 'env-1'], 3)
    const started = await drift.observe(c.messages, c.result)

    const run: PipelineRun = {
      idempotencyKey: `drift-motor-${START}`,
      reason: 'drift',
      detail: {
        deviceType: 'motor',
        windowStart: START,
        windowEnd: START + HOUR,
        readings: 40,
        alerts: 4,
        rate: 100,
      },
    }
    expect(started).toEqual([run])
    expect(trigger.started).toEqual([run])
    const saved = await deps.state.load([driftStateKey('motor'), driftStateKey('env')])
    expect(saved.get(driftStateKey('motor'))?.value).toEqual({
      windowStart: START + HOUR,
      readings: 3,
      alerts: 0,
      due: [],
    })

    // Called again in the same window: nothing more.
    const d = await batch(['motor-1'], 3)
    expect(await drift.observe(d.messages, d.result)).toEqual([])
    expect(trigger.started).toHaveLength(1)
  })

  it('starts a window’s run once when invocations close it concurrently', async () => {
    const { clock, drift, trigger, batch, deps } = setup({ threshold: 10 })
    const a = await batch(['motor-1'], 20, 2)
    await drift.observe(a.messages, a.result)
    clock.advance(HOUR)
    const batches = await Promise.all([batch(['motor-2'], 4), batch(['motor-3'], 4), batch(['motor-4'], 4)])
    // Each invocation its own watcher, as separate Lambdas on one state table.
    const watchers = batches.map(
      () =>
        new DriftWatch(
          { state: deps.state, trigger, clock },
          { deviceTypes, threshold: 10, minReadings: 10 },
        ),
    )
    const started = await Promise.all(batches.map((b, i) => watchers[i]?.observe(b.messages, b.result)))
    expect(started.flat().map((r) => r?.idempotencyKey)).toEqual([`drift-motor-${START}`])
    expect(trigger.started.map((r) => r.idempotencyKey)).toEqual([`drift-motor-${START}`])
    const saved = (await deps.state.load<{ readings: number }>([driftStateKey('motor')])).get(
      driftStateKey('motor'),
    )
    expect(saved?.value?.readings).toBe(12)
  })

  it('rolls windows: each window over the threshold gets its own run, a quiet one none', async () => {
    const { clock, drift, trigger, batch } = setup({ threshold: 10 })
    const hours = [2, 0, 3]
    for (const hot of hours) {
      const b = await batch(['motor-1'], 20, hot)
      await drift.observe(b.messages, b.result)
      clock.advance(HOUR)
    }
    const last = await batch(['motor-1'], 1)
    await drift.observe(last.messages, last.result)
    expect(trigger.started.map((r) => [r.idempotencyKey, r.detail.alerts])).toEqual([
      [`drift-motor-${START}`, 2],
      [`drift-motor-${START + 2 * HOUR}`, 3],
    ])
  })

  it('needs minReadings before a rate counts', async () => {
    const { clock, drift, trigger, batch } = setup({ threshold: 10, minReadings: 100 })
    const b = await batch(['motor-1'], 20, 5)
    await drift.observe(b.messages, b.result)
    clock.advance(HOUR)
    const c = await batch(['motor-1'], 1)
    await drift.observe(c.messages, c.result)
    expect(trigger.started).toEqual([])
  })

  it('keeps a run whose start failed due, and the next call starts it', async () => {
    const { clock, drift, trigger, batch } = setup({ threshold: 10 })
    const b = await batch(['motor-1'], 20, 2)
    await drift.observe(b.messages, b.result)
    clock.advance(HOUR)
    trigger.failures = 1
    const c = await batch(['motor-1'], 1)
    await expect(drift.observe(c.messages, c.result)).rejects.toThrow('PutEvents throttled')
    expect(trigger.started).toEqual([])

    const d = await batch(['motor-1'], 1)
    expect((await drift.observe(d.messages, d.result)).map((r) => r.idempotencyKey)).toEqual([
      `drift-motor-${START}`,
    ])
    const e = await batch(['motor-1'], 1)
    await drift.observe(e.messages, e.result)
    expect(trigger.started).toHaveLength(1)
  })

  it('starts a run another invocation closed but never started, once it is stale', async () => {
    const { clock, drift, trigger, batch, deps } = setup({ threshold: 10 })
    const b = await batch(['motor-1'], 20, 2)
    await drift.observe(b.messages, b.result)
    clock.advance(HOUR)
    // An invocation that saved the closed window, then died before starting its run.
    const dead = new DriftWatch(
      { state: deps.state, trigger: { start: () => new Promise(() => {}) }, clock },
      { deviceTypes, threshold: 10, minReadings: 10 },
    )
    const c = await batch(['motor-1'], 1)
    void dead.observe(c.messages, c.result)
    await new Promise((resolve) => setTimeout(resolve, 10))

    const d = await batch(['motor-1'], 1)
    expect(await drift.observe(d.messages, d.result)).toEqual([])
    clock.advance(STALE_DUE_MS)
    const e = await batch(['motor-1'], 1)
    expect((await drift.observe(e.messages, e.result)).map((r) => r.idempotencyKey)).toEqual([
      `drift-motor-${START}`,
    ])
    expect(trigger.started).toHaveLength(1)
  })

  it('counts nothing for an ingest that stored no reading of a known type', async () => {
    const { drift, deps } = setup()
    const empty: IngestResult = {
      records: [],
      transitions: [],
      counts: emptyCounts(),
    }
    expect(await drift.observe([], empty)).toEqual([])
    expect(deps.state.entries.size).toBe(0)
  })
})
