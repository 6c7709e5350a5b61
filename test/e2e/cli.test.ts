/**
 * The CLI as a user runs it: `fleetpipe dev` with a simulated fleet, messages published from
 * outside, then `query` and `quarantine` against the data it left (and while it runs).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../../packages/local/bin/fleetpipe.js', import.meta.url))
const run = promisify(execFile)

let dataDir: string
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fleetpipe-e2e-'))
})
afterAll(() => rm(dataDir, { recursive: true, force: true }))

function fleetpipe(args: string[]) {
  return run(process.execPath, [bin, ...args, '--data-dir', dataDir], { timeout: 60_000 })
}

async function json<T>(args: string[]): Promise<T> {
  const { stdout } = await fleetpipe([...args, '--json'])
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as T
}

/** Starts `dev` and resolves the broker and database URLs it announces on stderr. */
function startDev(args: string[]) {
  const child: ChildProcess = spawn(
    process.execPath,
    [bin, 'dev', ...args, '--data-dir', dataDir, '--broker-port', '0', '--db-port', '0', '--json'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => {
    stdout += chunk
  })
  const ready = new Promise<{ broker: string }>((resolve, reject) => {
    child.stderr?.on('data', (chunk) => {
      stderr += chunk
      const broker = /broker\s+embedded at (mqtt:\/\/\S+)/.exec(stderr)?.[1]
      if (broker && stderr.includes('fleet ')) resolve({ broker })
    })
    child.once('exit', (code) => reject(new Error(`dev exited with ${code}: ${stderr}`)))
  })
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  )
  return { ready, exited }
}

interface Summary {
  published: number
  received: number
  stored: number
  duplicates: number
  quarantined: number
  statuses: number
  alerts: number
  lost: number
}

describe('fleetpipe dev, then query and quarantine', () => {
  let summary: Summary
  let during: { readings: number }
  let second: unknown

  beforeAll(async () => {
    const dev = startDev(['--devices', '20', '--rate', '4', '--duration', '10'])
    const { broker } = await dev.ready
    // Started at once, so it meets the first dev still running even on a slow, busy machine.
    const refused = fleetpipe(['dev', '--devices', '0', '--duration', '1', '--broker-port', '0']).catch(
      (error: { code: number; stderr: string }) => error,
    )
    const outsider = await mqtt.connectAsync(broker)
    const now = Date.now()
    await outsider.publishAsync('fleet/ext-1/telemetry', '{"v":1,"deviceId":"ext-1",', { qos: 1 })
    await outsider.publishAsync(
      'fleet/ext-1/telemetry',
      JSON.stringify({ v: 1, deviceId: 'ext-2', ts: now, seq: 1, metrics: { temperature: 20 } }),
      { qos: 1 },
    )
    await outsider.publishAsync(
      'fleet/ext-1/telemetry',
      JSON.stringify({ v: 1, deviceId: 'ext-1', ts: now + 3_600_000, seq: 2, metrics: { temperature: 20 } }),
      { qos: 1 },
    )
    await outsider.endAsync()
    // While dev owns the embedded files, other commands reach the data through its server.
    during = await json<{ readings: number }[]>(['query', 'counts']).then(
      (rows) => rows[0] as { readings: number },
    )
    second = await refused
    const { code, stdout } = await dev.exited
    expect(code).toBe(0)
    summary = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Summary
  })

  it('ends with a summary in which nothing is lost', () => {
    expect(summary.lost).toBe(0)
    expect(summary.received).toBe(summary.stored + summary.duplicates + summary.quarantined)
    expect(summary.published).toBeGreaterThan(100)
    expect(summary.quarantined).toBe(3)
    expect(summary.statuses).toBeGreaterThanOrEqual(20)
  })

  it('answers queries while running, and afterwards from the embedded files', async () => {
    expect(during.readings).toBeGreaterThan(0)
    const [counts] = await json<{ readings: number; devices: number }[]>(['query', 'counts'])
    expect(counts?.readings).toBe(summary.stored - summary.statuses)
    expect(counts?.devices).toBe(20)
    const latest = await json<{ deviceId: string; temperature: number }[]>(['query', 'latest'])
    expect(latest).toHaveLength(20)
    expect(latest.every((r) => typeof r.temperature === 'number')).toBe(true)
  })

  it('shows the injected overheat as an alert, which can be acknowledged', async () => {
    expect(summary.alerts).toBeGreaterThanOrEqual(1)
    const alerts = await json<{ id: string; ruleId: string; acknowledgedAt: string }[]>(['alerts'])
    expect(alerts.map((a) => a.ruleId)).toContain('over-temperature')
    expect(await json<{ id: string }[]>(['query', 'alerts'])).toEqual(
      alerts.map((a) => expect.objectContaining({ id: a.id })),
    )

    const [first] = alerts
    expect(first?.acknowledgedAt).toBe('')
    const { stderr } = await fleetpipe(['alerts', 'ack', first?.id as string])
    expect(stderr).toContain(`acknowledged ${first?.id}`)
    const after = await json<{ id: string; acknowledgedAt: string }[]>(['alerts'])
    expect(Date.parse(after.find((a) => a.id === first?.id)?.acknowledgedAt ?? '')).toBeGreaterThan(0)

    const unknown = await fleetpipe(['alerts', 'ack', 'no-such-alert']).catch(
      (error: { code: number; stderr: string }) => error,
    )
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('no alert no-such-alert') })
  })

  it('lists what was refused with reasons, and replays it', async () => {
    const entries = await json<{ id: number; reason: string; deviceId: string }[]>(['quarantine', 'list'])
    expect(entries.map((e) => e.reason).sort()).toEqual([
      'device_mismatch',
      'invalid_json',
      'timestamp_out_of_range',
    ])
    const replayed = await json<{ id: number; outcome: string }[]>(['quarantine', 'replay'])
    // Still invalid: each is quarantined again under a new entry and the old one is settled.
    expect(replayed.map((r) => r.outcome)).toEqual(['quarantined', 'quarantined', 'quarantined'])
    const after = await json<{ id: number }[]>(['quarantine', 'list'])
    expect(after).toHaveLength(3)
    expect(after.map((e) => e.id)).not.toEqual(entries.map((e) => e.id))
  })

  it('refuses a second dev on the same embedded files, which one process owns', () => {
    expect(second).toMatchObject({ code: 2 })
    expect((second as { stderr: string }).stderr).toMatch(/another fleetpipe dev is using/)
  })

  it('falls back to a free broker port when its own is taken, says so, and still exits when done', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const { port } = taken.address() as AddressInfo
    const dir = await mkdtemp(join(tmpdir(), 'fleetpipe-e2e-port-'))
    try {
      const args = [
        'dev',
        '--devices',
        '0',
        '--duration',
        '1',
        '--broker-port',
        String(port),
        '--db-port',
        '0',
      ]
      const { stderr } = await run(process.execPath, [bin, ...args, '--data-dir', dir], { timeout: 60_000 })
      expect(stderr).toMatch(new RegExp(`port ${port} was taken`))
    } finally {
      taken.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses bad configuration with a clear error naming the setting', async () => {
    const failed = await fleetpipe(['dev', '--rate', 'fast']).catch(
      (error: { code: number; stderr: string }) => error,
    )
    expect(failed).toMatchObject({ code: 2 })
    expect((failed as { stderr: string }).stderr).toMatch(/--rate \(FLEETPIPE_RATE\)/)
  })
})

describe('fleetpipe dev --cloud', () => {
  it.each([
    ['aws', 'the AWS handler'],
    ['gcp', 'the GCP function'],
    ['azure', 'the Azure function'],
  ])('%s: the fleet goes through %s, and nothing is lost', async (cloud, through) => {
    const dir = await mkdtemp(join(tmpdir(), `fleetpipe-e2e-${cloud}-`))
    try {
      const args = ['dev', '--cloud', cloud, '--devices', '10', '--rate', '2', '--duration', '4', '--json']
      const { stdout, stderr } = await run(
        process.execPath,
        [bin, ...args, '--data-dir', dir, '--broker-port', '0', '--db-port', '0'],
        { timeout: 90_000 },
      )
      expect(stderr).toContain(`through ${through}`)
      const summary = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Summary
      expect(summary.lost).toBe(0)
      expect(summary.stored).toBeGreaterThan(0)
      expect(summary.received).toBe(summary.stored + summary.duplicates + summary.quarantined)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
