/**
 * Retraining as a user runs it: a labeled dataset from the simulator, `fleetpipe retrain` on it,
 * `fleetpipe models` showing the champion; a corrupt dataset failing with its line; and
 * `fleetpipe dev` picking up a dataset copied into its bucket folder.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { defaultRules, type InboundMessage, ingest, type TelemetryInput } from '@fleetpipe/core'
import { ManualClock, memoryDeps } from '@fleetpipe/core/memory'
import { FleetScheduler, Random, SimDevice } from '@fleetpipe/firmware-sim'
import { bucketDir, executionsDir, FolderModelSource } from '@fleetpipe/local'
import { FolderBlobStore, labeler, writeDatasetFile } from '@fleetpipe/retrain'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../../packages/local/bin/fleetpipe.js', import.meta.url))
const run = promisify(execFile)

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0)
let dir: string
let dataDir: string
let dataset: string

/** The simulator's fleet, on a fake clock: every reading, labeled by its overheat episodes. */
async function simulatedDataset(path: string, seed: number) {
  const devices = Array.from(
    { length: 12 },
    (_, i) => new SimDevice({ deviceId: `motor-${i}`, seed: seed + i }),
  )
  const readings: TelemetryInput[] = []
  const start = Date.UTC(2026, 10, 23, 8, 0, 0)
  const scheduler = new FleetScheduler(
    devices,
    { rateHz: 1, anomalyChance: 0.003, random: new Random(seed), start },
    (_, reading) => readings.push(reading),
  )
  for (let now = start; now < start + 900_000; now += 100) scheduler.tick(now)
  for (const device of devices) device.endEpisode('stop')
  const label = labeler(devices.flatMap((d) => d.labels()))
  return writeDatasetFile(
    path,
    readings.map((reading) => ({ reading, label: label(reading) })),
  )
}

function fleetpipe(args: string[]) {
  return run(process.execPath, [bin, ...args, '--data-dir', dataDir], { timeout: 90_000 })
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetpipe-retrain-'))
  dataDir = join(dir, 'data')
  dataset = join(dir, 'labeled.ndjson')
  const written = await simulatedDataset(dataset, 5)
  expect(written.anomalies).toBeGreaterThan(100)
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('fleetpipe retrain and models', () => {
  it('trains on the simulator’s labeled dataset and promotes a champion that tells overheats apart', async () => {
    const { stdout } = await fleetpipe(['retrain', '--dataset', dataset, '--type', 'motor', '--json'])
    const record = JSON.parse(stdout)
    expect(record.status, record.cause).toBe('SUCCEEDED')
    expect(record.output.registered.version).toMatch(/^\d{8}T\d{6}Z-/)

    const models = JSON.parse((await fleetpipe(['models', '--json'])).stdout)
    expect(models).toHaveLength(1)
    expect(models[0]).toMatchObject({
      deviceType: 'motor',
      version: record.output.registered.version,
      champion: true,
    })
    const holdout = models[0].evaluation.holdout
    expect(holdout.f1).toBeGreaterThan(0.9)

    // The model-score rule's source of models sees it, from the same folder.
    const source = new FolderModelSource(new FolderBlobStore(bucketDir(dataDir)))
    expect((await source.current('motor'))?.version).toBe(record.output.registered.version)
  })

  it('changes detections once promoted: the default model-score rule scores with the champion', async () => {
    const hot = (deviceId: string, seq: number, temperature: number): InboundMessage => ({
      topic: `fleet/${deviceId}/telemetry`,
      payload: JSON.stringify({
        v: 1,
        deviceId,
        ts: NOW + seq * 1_000,
        seq,
        metrics: { temperature, vibration: 0.2, current: 4 },
      }),
      receivedAt: NOW + 60_000,
      source: 'test',
    })
    const scored = async (models: FolderModelSource) => {
      const deps = { ...memoryDeps(new ManualClock(NOW + 60_000)), models }
      const result = await ingest([hot('esp32-0001', 1, 35), hot('esp32-0001', 2, 93)], deps, {
        rules: defaultRules,
      })
      return result.transitions.filter((t) => t.alert.kind === 'model-score').map((t) => t.alert)
    }
    const empty = join(dir, 'empty-bucket')
    await mkdir(empty, { recursive: true })
    expect(await scored(new FolderModelSource(new FolderBlobStore(empty)))).toEqual([])

    const [champion] = JSON.parse((await fleetpipe(['models', '--json'])).stdout)
    const alerts = await scored(new FolderModelSource(new FolderBlobStore(bucketDir(dataDir))))
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({
      ruleId: 'motor-model',
      modelVersion: champion.version,
      value: expect.any(Number),
    })
    expect(alerts[0]?.value).toBeGreaterThan(alerts[0]?.threshold as number)
  })

  it('fails a corrupt dataset with the line at fault, and keeps the champion', async () => {
    const before = JSON.parse((await fleetpipe(['models', '--json'])).stdout)
    const corrupt = join(dir, 'corrupt.csv')
    await writeFile(corrupt, 'deviceId,ts,temperature\nmotor-1,1795435200000,35\nmotor-1,1795435201000,hot\n')
    const failed = await fleetpipe(['retrain', '--dataset', corrupt, '--type', 'motor', '--json']).catch(
      (error: { code: number; stdout: string; stderr: string }) => error,
    )
    expect((failed as { code: number }).code).toBe(1)
    const record = JSON.parse((failed as { stdout: string }).stdout)
    expect(record).toMatchObject({ status: 'FAILED', error: 'RetrainFailed' })
    expect(JSON.parse(record.cause).errorMessage).toBe('line 3: temperature: "hot" is not a number')
    expect((failed as { stderr: string }).stderr).toMatch(
      /retrain failed: fleetpipe retraining failed: motor model/,
    )
    expect(JSON.parse((await fleetpipe(['models', '--json'])).stdout)).toEqual(before)
  })
})

describe('fleetpipe dev and its bucket folder', () => {
  let child: ChildProcess | undefined
  afterAll(() => child?.kill('SIGINT'))

  it('runs the pipeline for a dataset copied into datasets/ while dev runs', async () => {
    const devDir = join(dir, 'dev')
    child = spawn(
      process.execPath,
      [bin, 'dev', '--devices', '0', '--data-dir', devDir, '--broker-port', '0', '--db-port', '0'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    )
    let stderr = ''
    await new Promise<void>((resolve, reject) => {
      child?.stderr?.on('data', (chunk) => {
        stderr += chunk
        if (stderr.includes('retrain drop datasets into')) resolve()
      })
      child?.once('exit', (code) => reject(new Error(`dev exited with ${code}: ${stderr}`)))
    })
    const folder = join(bucketDir(devDir), 'datasets', 'motor')
    await mkdir(folder, { recursive: true })
    await copyFile(dataset, join(folder, 'week-47.ndjson'))

    const deadline = Date.now() + 60_000
    let record: { status: string } | undefined
    while (Date.now() < deadline && record?.status !== 'SUCCEEDED') {
      const files = await readdir(executionsDir(devDir)).catch(() => [] as string[])
      const file = files.find((f) => f.endsWith('.json'))
      record = file ? JSON.parse(await readFile(join(executionsDir(devDir), file), 'utf8')) : undefined
      if (record?.status === 'FAILED') break
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    expect(record?.status).toBe('SUCCEEDED')
    expect(stderr).toMatch(/retrain promoted: fleetpipe: new motor model/)
  })
})
