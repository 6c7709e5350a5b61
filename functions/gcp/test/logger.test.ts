import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger, quietLogger } from '../src/index.ts'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('createLogger', () => {
  it('writes one JSON line per entry on stdout, with Cloud Logging severities and the stage', () => {
    const written: string[] = []
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk))
      return true
    })
    const logger = createLogger({ stage: 'prod' })
    logger.info('ingested', { counts: { received: 1 } })
    logger.warn('careful')
    logger.error('broken', { detail: 'x' })
    expect(written.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true)
    expect(written.map((line) => JSON.parse(line))).toEqual([
      {
        severity: 'INFO',
        message: 'ingested',
        service: 'fleetpipe-ingest',
        stage: 'prod',
        counts: { received: 1 },
      },
      { severity: 'WARNING', message: 'careful', service: 'fleetpipe-ingest', stage: 'prod' },
      { severity: 'ERROR', message: 'broken', service: 'fleetpipe-ingest', stage: 'prod', detail: 'x' },
    ])
  })

  it('drops lines below its level, and all of them when SILENT', () => {
    const lines: string[] = []
    const write = (line: string) => void lines.push(line)
    createLogger({ stage: 'dev', level: 'WARNING', write }).info('dropped')
    createLogger({ stage: 'dev', level: 'WARNING', write }).warn('kept')
    createLogger({ stage: 'dev', level: 'SILENT', write }).error('dropped too')
    expect(lines.map((line) => JSON.parse(line).message)).toEqual(['kept'])
  })

  it('has a quiet logger for local runs that lets errors through only', () => {
    const written: string[] = []
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk))
      return true
    })
    const logger = quietLogger()
    logger.info('ingested')
    logger.warn('careful')
    logger.error('broken')
    expect(written.map((line) => JSON.parse(line))).toMatchObject([{ severity: 'ERROR', stage: 'local' }])
  })
})
