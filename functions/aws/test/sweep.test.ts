import { ingest, parseRules } from '@fleetpipe/core'
import { ManualClock } from '@fleetpipe/core/memory'
import { describe, expect, it } from 'vitest'
import { message, reading } from '../../../packages/core/test/_fixtures.ts'
import { createSweepHandler } from '../src/index.ts'
import { NOW, setup } from './_setup.ts'

const rules = parseRules([{ id: 'silent', kind: 'heartbeat', after: '5m', severity: 'warning' }])

describe('the scheduled sweep', () => {
  it('opens an alert for each silent device, once, and counts it in its metrics', async () => {
    const { deps, options, emf } = setup()
    const clock = new ManualClock(NOW)
    const at = { ...deps, clock }
    await ingest([message(reading({ deviceId: 'esp32-0001', ts: NOW, seq: 1 }))], at, { rules })
    await ingest([message(reading({ deviceId: 'esp32-0002', ts: NOW, seq: 1 }))], at, { rules })
    const sweep = createSweepHandler(at, { ...options, rules })

    clock.set(NOW + 4 * 60_000)
    expect(await sweep({})).toEqual({ alerts: 0 })
    clock.set(NOW + 5 * 60_000)
    expect(await sweep({})).toEqual({ alerts: 2 })
    expect(await sweep({})).toEqual({ alerts: 0 })

    expect(deps.alerts.transitions.map((t) => [t.type, t.alert.deviceId, t.alert.ruleId])).toEqual([
      ['opened', 'esp32-0001', 'silent'],
      ['opened', 'esp32-0002', 'silent'],
    ])
    expect(emf.map((m) => (m as unknown as Record<string, unknown>).sweepAlerts)).toEqual([0, 2, 0])
  })
})
