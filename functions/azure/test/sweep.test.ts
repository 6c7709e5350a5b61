import { InvocationContext, type LogLevel, type Timer } from '@azure/functions'
import { ingest, parseRules, TransientError } from '@fleetpipe/core'
import { ManualClock, MemoryStateStore, memoryDeps } from '@fleetpipe/core/memory'
import { describe, expect, it } from 'vitest'
import { message, reading } from '../../../packages/core/test/_fixtures.ts'
import { createSweepHandler } from '../src/index.ts'
import { NOW } from './_setup.ts'

const rules = parseRules([{ id: 'silent', kind: 'heartbeat', after: '5m', severity: 'warning' }])

/** What the host hands a timer function: the schedule's status, as the Node.js worker passes it. */
function timerAt(at: number, isPastDue = false): Timer {
  return {
    isPastDue,
    schedule: { adjustForDST: true },
    scheduleStatus: {
      last: new Date(at - 60_000).toISOString(),
      next: new Date(at + 60_000).toISOString(),
      lastUpdated: new Date(at - 60_000).toISOString(),
    },
  }
}

function contextLogging(logs: { level: LogLevel; line: unknown }[]): InvocationContext {
  return new InvocationContext({
    invocationId: 'c0ffee00-0000-4000-8000-000000000002',
    functionName: 'sweep',
    logHandler: (level, ...args) => {
      logs.push({ level, line: JSON.parse(String(args[0])) })
    },
  })
}

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

describe('the timer sweep', () => {
  it('opens an alert for each silent device, once, and logs the count', async () => {
    const clock = new ManualClock(NOW)
    const deps = memoryDeps(clock)
    await ingest([message(reading({ deviceId: 'esp32-0001', ts: NOW, seq: 1 }))], deps, { rules })
    await ingest([message(reading({ deviceId: 'esp32-0002', ts: NOW, seq: 1 }))], deps, { rules })
    const sweep = createSweepHandler(deps, { rules, stage: 'test' })
    const logs: { level: LogLevel; line: unknown }[] = []
    const context = contextLogging(logs)

    clock.set(NOW + 4 * 60_000)
    expect(await sweep(timerAt(clock.now()), context)).toEqual({ alerts: 0 })
    clock.set(NOW + 5 * 60_000)
    expect(await sweep(timerAt(clock.now(), true), context)).toEqual({ alerts: 2 })
    expect(await sweep(timerAt(clock.now()), context)).toEqual({ alerts: 0 })

    expect(deps.alerts.transitions.map((t) => [t.type, t.alert.deviceId, t.alert.ruleId])).toEqual([
      ['opened', 'esp32-0001', 'silent'],
      ['opened', 'esp32-0002', 'silent'],
    ])
    expect(logs).toEqual([
      { level: 'information', line: { event: 'sweep', stage: 'test', alerts: 0, isPastDue: false } },
      { level: 'information', line: { event: 'sweep', stage: 'test', alerts: 2, isPastDue: true } },
      { level: 'information', line: { event: 'sweep', stage: 'test', alerts: 0, isPastDue: false } },
    ])
  })

  it('throws when the state store cannot be read, so the invocation counts as failed', async () => {
    const deps = { ...memoryDeps(new ManualClock(NOW)), state: new UnreachableState() }
    const sweep = createSweepHandler(deps, { rules })
    const logs: { level: LogLevel; line: unknown }[] = []

    await expect(sweep(timerAt(NOW), contextLogging(logs))).rejects.toThrow(/connection terminated/)
    expect(logs).toEqual([])
  })
})
