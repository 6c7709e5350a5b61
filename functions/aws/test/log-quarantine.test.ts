import { Logger } from '@aws-lambda-powertools/logger'
import type { QuarantineEntry } from '@fleetpipe/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LogQuarantine } from '../src/log-quarantine.ts'
import { NOW } from './_setup.ts'

afterEach(() => {
  vi.restoreAllMocks()
})

const entry: QuarantineEntry = {
  reason: 'invalid_json',
  path: '',
  message: 'payload is not JSON: Unexpected end of JSON input',
  topic: 'fleet/esp32-0003/telemetry',
  deviceId: 'esp32-0003',
  receivedAt: NOW,
  raw: '{"v":1,"deviceId":"esp32-0003"',
  rawEncoding: 'utf8',
  rawTruncated: false,
  source: 'aws-iot',
}

describe('LogQuarantine', () => {
  it('writes each entry as one structured WARN line that keeps every field', async () => {
    const lines: string[] = []
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk) => {
        lines.push(String(chunk))
        return true
      })
    }
    const quarantine = new LogQuarantine(new Logger({ serviceName: 'fleetpipe-ingest', logLevel: 'INFO' }))
    await quarantine.put([entry, { ...entry, deviceId: 'esp32-0004' }])
    const logged = lines.map((line) => JSON.parse(line))
    expect(logged).toHaveLength(2)
    expect(logged[0]).toMatchObject({ level: 'WARN', message: 'quarantined', quarantine: entry })
    expect(logged[1]?.quarantine.deviceId).toBe('esp32-0004')
  })
})
