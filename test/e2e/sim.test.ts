/**
 * `fleetpipe sim` as a user runs it: a simulated fleet publishing into a running `fleetpipe dev`
 * (no devices of its own), both summaries agreeing that everything published was stored; and the
 * runs it must refuse, with messages that say why.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../../packages/local/bin/fleetpipe.js', import.meta.url))
const run = promisify(execFile)

let dataDir: string
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fleetpipe-e2e-sim-'))
})
afterAll(() => rm(dataDir, { recursive: true, force: true }))

const lastLine = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) as string)

/**
 * Starts `dev` without a fleet for `seconds` and resolves the broker URL it announces on stderr.
 * The duration only has to outlast sim's few seconds.
 */
function startDev(seconds: number) {
  const args = ['dev', '--devices', '0', '--duration', String(seconds), '--json']
  const child: ChildProcess = spawn(
    process.execPath,
    [bin, ...args, '--data-dir', dataDir, '--broker-port', '0', '--db-port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => {
    stdout += chunk
  })
  const ready = new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (chunk) => {
      stderr += chunk
      const broker = /broker\s+embedded at (mqtt:\/\/\S+)/.exec(stderr)?.[1]
      if (broker && stderr.includes('fleet ')) resolve(broker)
    })
    child.once('exit', (code) => reject(new Error(`dev exited with ${code}: ${stderr}`)))
  })
  const exited = new Promise<{ code: number | null; stdout: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout })),
  )
  return { ready, exited }
}

function sim(args: string[]) {
  return run(process.execPath, [bin, 'sim', ...args], { timeout: 30_000 })
}

interface SimSummary {
  profile: string
  devices: number
  seconds: number
  published: number
  acknowledged: number
  failed: number
  ackLatencyMs: { p50: number | null; p99: number | null }
  readings: number
  faults: Record<string, number>
  dataset?: { file: string; rows: number; anomalies: number }
}

interface DevSummary {
  accepted: number | null
  gaps: number
  received: number
  stored: number
  statuses: number
  lost: number
}

/** Exit code and stderr of a sim run expected to fail. */
async function failure(args: string[]): Promise<{ code: number; stderr: string }> {
  return sim(args).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => error,
  )
}

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('fleetpipe sim', () => {
  let simSummary: SimSummary
  let simStderr: string
  let devSummary: DevSummary
  let devCode: number | null
  let port: number
  let refused: { code: number; stderr: string }[]

  beforeAll(async () => {
    port = await closedPort()
    const dev = startDev(9)
    const broker = await dev.ready
    const { stdout, stderr } = await sim([
      '--broker',
      broker,
      '--devices',
      '5',
      '--rate',
      '2',
      '--duration',
      '3',
      '--faults',
      'spike:0.2',
      '--export-dataset',
      join(dataDir, 'sim.ndjson'),
      '--json',
    ])
    simSummary = lastLine(stdout) as SimSummary
    simStderr = stderr
    // While dev runs out its duration, the runs that must be refused.
    ;[refused] = await Promise.all([
      Promise.all([
        failure(['--duration', '1']),
        failure([
          '--profile',
          'aws',
          '--broker',
          'mqtts://abc-ats.iot.eu-west-1.amazonaws.com',
          '--key',
          'k.pem',
        ]),
        failure(['--broker', `mqtt://127.0.0.1:${port}`, '--devices', '2', '--duration', '1']),
      ]),
      dev.exited.then((exited) => {
        devCode = exited.code
        devSummary = lastLine(exited.stdout) as DevSummary
      }),
    ])
  })

  it('has every publish acknowledged by the broker', () => {
    expect(simSummary).toMatchObject({ profile: 'local', devices: 5, failed: 0 })
    // 5 devices at 2 Hz for about 3 s.
    expect(simSummary.published).toBeGreaterThanOrEqual(25)
    expect(simSummary.published).toBeLessThanOrEqual(35)
    expect(simSummary.acknowledged).toBe(simSummary.published)
    expect(simSummary.ackLatencyMs.p50).toBeGreaterThan(0)
    expect(simSummary.ackLatencyMs.p99).toBeGreaterThanOrEqual(simSummary.ackLatencyMs.p50 as number)
    expect(simStderr).toMatch(/5 devices at 2 Hz → mqtt:\/\/127\.0\.0\.1:\d+ \(local profile\)/)
  })

  it('exports what it published as a labeled dataset, its anomalies marked', async () => {
    const file = join(dataDir, 'sim.ndjson')
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(simSummary.dataset).toEqual({ file, rows: lines.length, anomalies: expect.any(Number) })
    expect(lines.length).toBe(simSummary.readings)
    const spiked = lines.filter((line) => line.label === 1)
    expect(spiked.length).toBe(simSummary.dataset?.anomalies)
    // Every spike is marked; so is any overheat episode the fleet ran into.
    expect(spiked.length).toBeGreaterThanOrEqual(simSummary.faults.spike as number)
    expect(simSummary.faults.spike).toBeGreaterThan(0)
    expect(lines.every((line) => line.v === 1 && typeof line.metrics.temperature === 'number')).toBe(true)
  })

  it('lands in the pipeline: dev received all of it (and the births and goodbyes), losing nothing', () => {
    expect(devCode).toBe(0)
    expect(devSummary.lost).toBe(0)
    expect(devSummary.received).toBeGreaterThanOrEqual(simSummary.published)
    expect(devSummary.received - devSummary.statuses).toBe(simSummary.published)
    // Each device says online when it connects and offline when it stops.
    expect(devSummary.statuses).toBe(10)
    // Counted at the embedded broker, so a message it took and the bridge never got would show.
    expect(devSummary.accepted).toBe(simSummary.acknowledged + devSummary.statuses)
    // And by seq: no device's numbering skips a reading between those stored.
    expect(devSummary.gaps).toBe(0)
  })

  it('refuses what it cannot run, naming the missing broker, certificate, or the broker it cannot reach', () => {
    const [noBroker, noCert, unreachable] = refused
    expect(noBroker).toMatchObject({ code: 2 })
    expect(noBroker?.stderr).toMatch(/--broker \(FLEETPIPE_BROKER\): required/)
    expect(noCert).toMatchObject({ code: 2 })
    expect(noCert?.stderr).toMatch(/the aws profile needs --cert FILE/)
    expect(unreachable).toMatchObject({ code: 2 })
    expect(unreachable?.stderr).toContain(`cannot connect to the MQTT broker at mqtt://127.0.0.1:${port}`)
  })
})
