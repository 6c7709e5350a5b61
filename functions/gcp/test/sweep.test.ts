/** The sweep served by the functions-framework's own server, POSTed to as Cloud Scheduler does. */
import { ingest, parseRules, TransientError } from '@fleetpipe/core'
import { ManualClock, MemoryStateStore, memoryDeps } from '@fleetpipe/core/memory'
import { afterEach, describe, expect, it } from 'vitest'
import { message, reading } from '../../../packages/core/test/_fixtures.ts'
import { createLogger, createSweepHandler, type HandlerOptions, registerSweep } from '../src/index.ts'
import { NOW, type Served, serve, uniqueName } from './_setup.ts'

const rules = parseRules([{ id: 'silent', kind: 'heartbeat', after: '5m', severity: 'warning' }])

const running: Served[] = []
afterEach(async () => {
  for (const served of running.splice(0)) await served.close()
})

/** A state store whose listing fails, as PostgreSQL's does when the server is unreachable. */
class UnreachableState extends MemoryStateStore {
  override keys(): AsyncIterable<string[]> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.reject(new TransientError('connection terminated unexpectedly')),
      }),
    }
  }
}

async function start(deps: ReturnType<typeof memoryDeps>) {
  const lines: Record<string, unknown>[] = []
  const logger = createLogger({ stage: 'test', write: (line) => lines.push(JSON.parse(line)) })
  const options: HandlerOptions = { stage: 'test', rules, logger }
  const name = uniqueName('sweep')
  registerSweep(name, createSweepHandler(deps, options))
  const served = await serve(name)
  running.push(served)
  // Cloud Scheduler's request: a POST with no body (the job sets none), its OIDC token checked by
  // Cloud Run before the function sees it.
  const tick = () =>
    fetch(`${served.url}/`, { method: 'POST', headers: { 'user-agent': 'Google-Cloud-Scheduler' } })
  return { tick, lines }
}

describe('the sweep through the functions-framework', () => {
  it('opens an alert for each silent device, once, answering 200 with the count', async () => {
    const clock = new ManualClock(NOW)
    const deps = memoryDeps(clock)
    await ingest([message(reading({ deviceId: 'esp32-0001', ts: NOW, seq: 1 }))], deps, { rules })
    await ingest([message(reading({ deviceId: 'esp32-0002', ts: NOW, seq: 1 }))], deps, { rules })
    const { tick, lines } = await start(deps)

    clock.set(NOW + 4 * 60_000)
    const early = await tick()
    expect([early.status, await early.json()]).toEqual([200, { alerts: 0 }])
    clock.set(NOW + 5 * 60_000)
    const due = await tick()
    expect([due.status, await due.json()]).toEqual([200, { alerts: 2 }])
    expect(due.headers.get('content-type')).toMatch(/^application\/json/)
    const again = await tick()
    expect([again.status, await again.json()]).toEqual([200, { alerts: 0 }])

    expect(deps.alerts.transitions.map((t) => [t.type, t.alert.deviceId, t.alert.ruleId])).toEqual([
      ['opened', 'esp32-0001', 'silent'],
      ['opened', 'esp32-0002', 'silent'],
    ])
    expect(lines.map((l) => [l.severity, l.message, l.alerts])).toEqual([
      ['INFO', 'swept', 0],
      ['INFO', 'swept', 2],
      ['INFO', 'swept', 0],
    ])
  })

  it('answers 500 when the state store cannot be listed, so Cloud Scheduler retries', async () => {
    const deps = { ...memoryDeps(new ManualClock(NOW)), state: new UnreachableState() }
    const { tick, lines } = await start(deps)

    const response = await tick()

    expect(response.status).toBe(500)
    expect(await response.json()).toEqual({ error: 'TransientError: connection terminated unexpectedly' })
    expect(lines).toEqual([
      expect.objectContaining({
        severity: 'ERROR',
        message: 'sweep failed, Cloud Scheduler will retry',
        detail: 'TransientError: connection terminated unexpectedly',
      }),
    ])
  })
})
