/**
 * `fleetpipe eval` as a user runs it: the table with a row per rule kind, fleetpipe's and the
 * baseline's, every cell a number (or – where there is nothing to measure); the defaults beating
 * the baseline; and a bad flag refused with a message naming it.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../../packages/local/bin/fleetpipe.js', import.meta.url))
const run = promisify(execFile)

function fleetpipe(args: string[]) {
  return run(process.execPath, [bin, 'eval', ...args], { timeout: 90_000 })
}

const COLUMNS = [
  'alerts',
  'TP',
  'FP',
  'repeats',
  'labels',
  'detected',
  'precision',
  'recall',
  'F1',
  'false/device-day',
  'median delay (s)',
]

describe('fleetpipe eval', () => {
  it('prints a row per rule kind, fleetpipe and the baseline, with numbers in every column', async () => {
    const { stdout } = await fleetpipe(['--devices', '10', '--hours', '1', '--seed', '3'])
    const lines = stdout.split('\n')
    const header = lines.findIndex((line) => line.startsWith('rules ') && line.includes('precision'))
    expect(header).toBeGreaterThan(0)
    expect((lines[header] as string).split(/\s{2,}/).slice(1)).toEqual(COLUMNS)
    const rows = lines.slice(header + 2, lines.indexOf('', header))
    const names = rows.map((row) => row.split(/\s{2,}/)[0] as string)
    // A row per kind in the default rules (which kinds they use is theirs to change), then the totals.
    expect(names.slice(-2)).toEqual([
      'fleetpipe (all rules)',
      'baseline (seed: current>10 or temperature>80 per message)',
    ])
    expect(names.length).toBeGreaterThan(2)
    for (const name of names.slice(0, -2)) expect(name).toMatch(/^[a-z-]+ \(\d+ rules?\)$/)
    for (const row of rows) {
      const cells = row.split(/\s{2,}/).slice(1)
      expect(cells).toHaveLength(COLUMNS.length)
      for (const cell of cells)
        expect(cell === '–' || Number.isFinite(Number(cell)), `${cell} in ${row}`).toBe(true)
    }
    expect(stdout).toMatch(/^fleetpipe eval — 10 devices × 1 h at 10 s, seed 3/)
  })

  it('beats the baseline on F1 and false alerts with the default rules and dataset', async () => {
    const { stdout } = await fleetpipe(['--json'])
    const report = JSON.parse(stdout.trim().split('\n').at(-1) as string)
    expect(report.dataset).toMatchObject({ devices: 100, hours: 6, intervalMs: 10_000 })
    expect(report.ingest.stored).toBe(report.dataset.readings)
    expect(report.fleetpipe.f1).toBeGreaterThan(report.baseline.f1)
    expect(report.fleetpipe.falsePerDeviceDay).toBeLessThan(report.baseline.falsePerDeviceDay)
    expect(report.beatsBaseline).toEqual({ f1: true, falseAlerts: true })
  })

  it('refuses a bad flag, naming it and its variable', async () => {
    const failed = await fleetpipe(['--hours', '0']).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    )
    expect(failed?.code).toBe(2)
    expect(failed?.stderr).toMatch(/--hours \(FLEETPIPE_HOURS\)/)
  })
})
