import { type PipelineRun, scoreReading, TransientError } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import {
  currentModel,
  getText,
  LocalRetrain,
  listModels,
  MemoryBlobStore,
  pointerKey,
  type RetrainNotification,
} from '../src/index.ts'
import { csv, ndjson, START, syntheticRows } from './_data.ts'

function setup() {
  const blobs = new MemoryBlobStore()
  const executions = new MemoryBlobStore()
  const notifications: RetrainNotification[] = []
  let now = START + 86_400_000
  const retrain = new LocalRetrain({
    blobs,
    executions,
    notifier: { notify: async (n) => void notifications.push(n) },
    clock: { now: () => (now += 1_000) },
    sleep: async () => {},
  })
  return { blobs, executions, notifications, retrain }
}

/** The run a dataset drop starts: bucket, key and sequencer name it. */
const drop = (key: string, sequencer = '0065A1B2C3D4E5F601'): PipelineRun => ({
  idempotencyKey: `local/${key}:${sequencer}`,
  reason: 'dataset',
  detail: { key },
})

describe('LocalRetrain', () => {
  it('trains, evaluates and promotes a labeled dataset; the champion then scores an overheat above its threshold', async () => {
    const { blobs, retrain, notifications } = setup()
    await blobs.put(
      'datasets/motor/week-47.ndjson',
      ndjson(syntheticRows({ devices: 6, readingsPerDevice: 600 })),
    )

    const record = await retrain.run(drop('datasets/motor/week-47.ndjson'))

    expect(record.status, record.cause).toBe('SUCCEEDED')
    const entered = record.history.filter((e) => e.type === 'StateEntered').map((e) => e.state)
    expect(entered).toEqual([
      'Configure',
      'HasDataset',
      'ValidateDataset',
      'Train',
      'Evaluate',
      'ShouldPromote',
      'Register',
      'Notify',
      'Done',
    ])
    const champion = await currentModel(blobs, 'motor')
    expect(champion?.version).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/)
    expect(champion?.evaluation).toMatchObject({
      dataset: 'datasets/motor/week-47.ndjson',
      basis: 'f1',
      holdout: { f1: 1 },
    })
    const hot = { temperature: 90, vibration: 0.15, current: 4 }
    expect(scoreReading(champion as NonNullable<typeof champion>, hot, START) as number).toBeGreaterThan(
      champion?.threshold as number,
    )
    expect(notifications.map((n) => [n.outcome, n.version])).toEqual([['promoted', champion?.version]])
    expect(await listModels(blobs)).toMatchObject([
      { deviceType: 'motor', version: champion?.version, champion: true },
    ])
  })

  it('runs a repeated start once: the same object twice is one execution, a new version is another', async () => {
    const { blobs, retrain, notifications, executions } = setup()
    await blobs.put('datasets/motor/a.csv', csv(syntheticRows({ devices: 4, readingsPerDevice: 300 })))

    const [first, again] = await Promise.all([
      retrain.run(drop('datasets/motor/a.csv')),
      retrain.run(drop('datasets/motor/a.csv')),
    ])
    const later = await retrain.run(drop('datasets/motor/a.csv'))
    expect(again).toEqual(first)
    expect(later).toEqual(first)
    expect(notifications).toHaveLength(1)

    const second = await retrain.run(drop('datasets/motor/a.csv', '0065A1B2C3D4E5F699'))
    expect(second.name).not.toBe(first.name)
    expect(notifications).toHaveLength(2)
    expect((await executions.list('')).map((o) => o.key).sort()).toEqual(
      [`${first.name}.json`, `${second.name}.json`].sort(),
    )
  })

  it('keeps the champion when the candidate is worse, and says why', async () => {
    const { blobs, retrain, notifications } = setup()
    await blobs.put(
      'datasets/motor/good.ndjson',
      ndjson(syntheticRows({ devices: 6, readingsPerDevice: 600 })),
    )
    await retrain.run(drop('datasets/motor/good.ndjson'))
    const pointer = await getText(blobs, pointerKey('motor'))
    // Overheats labeled normal in the training part: the candidate learns them as normal.
    const mislabeled = syntheticRows({ devices: 6, readingsPerDevice: 600, seed: 11, mislabelTraining: true })
    await blobs.put('datasets/motor/mislabeled.ndjson', ndjson(mislabeled))

    const record = await retrain.run(drop('datasets/motor/mislabeled.ndjson'))

    expect(record.status).toBe('SUCCEEDED')
    expect(record.history.map((e) => e.state)).not.toContain('Register')
    expect(await getText(blobs, pointerKey('motor'))).toBe(pointer)
    const kept = notifications[1]
    expect(kept?.outcome).toBe('kept')
    expect(kept?.evaluation?.improvement).toBeLessThan(0)
    expect(kept?.message).toMatch(/^Not promoted \(needs \+0\.01 f1, got -/)
    expect((await listModels(blobs)).filter((m) => m.champion)).toHaveLength(1)
  })

  it('fails a corrupt dataset with the line at fault, and notifies', async () => {
    const { blobs, retrain, notifications } = setup()
    const good = ndjson(syntheticRows({ devices: 1, readingsPerDevice: 5 }))
    await blobs.put('datasets/motor/broken.ndjson', `${good}{"deviceId":"motor-0","ts":"soon"}\n`)

    const record = await retrain.run(drop('datasets/motor/broken.ndjson'))

    expect(record.status).toBe('FAILED')
    expect(record.error).toBe('RetrainFailed')
    const cause = JSON.parse(record.cause as string)
    expect(cause).toEqual({ errorType: 'DatasetError', errorMessage: expect.stringMatching(/^line 6: ts: /) })
    expect(notifications).toMatchObject([
      { outcome: 'failed', error: { name: 'DatasetError', message: cause.errorMessage } },
    ])
    expect(notifications[0]?.message).toBe(
      `Retraining from datasets/motor/broken.ndjson failed — DatasetError: ${cause.errorMessage}`,
    )
    // Not retried: a bad dataset stays bad.
    expect(record.history.filter((e) => e.type === 'TaskFailed')).toHaveLength(1)
    expect(await currentModel(blobs, 'motor')).toBeUndefined()
  })

  it('fails a dataset outside a device type folder, or of another format, with a cause that says what to do', async () => {
    const { blobs, retrain } = setup()
    await blobs.put('datasets/readings.ndjson', 'x')
    await blobs.put('datasets/motor/readings.parquet', 'x')
    const noType = await retrain.run(drop('datasets/readings.ndjson'))
    const otherFormat = await retrain.run(drop('datasets/motor/readings.parquet'))
    const missing = await retrain.run(drop('datasets/motor/gone.csv'))
    expect(JSON.parse(noType.cause as string).errorMessage).toBe(
      'datasets/readings.ndjson: no device type (put datasets under datasets/{deviceType}/)',
    )
    expect(JSON.parse(otherFormat.cause as string).errorMessage).toBe(
      'datasets/motor/readings.parquet: not a dataset (.ndjson, .jsonl or .csv)',
    )
    expect(JSON.parse(missing.cause as string).errorMessage).toBe('datasets/motor/gone.csv: no such object')
  })

  it('retries a transient storage failure and then succeeds', async () => {
    const { blobs, retrain } = setup()
    await blobs.put('datasets/motor/a.ndjson', ndjson(syntheticRows({ devices: 4, readingsPerDevice: 300 })))
    const put = blobs.put.bind(blobs)
    let failures = 0
    blobs.put = async (key, body) => {
      if (key.startsWith('runs/') && failures++ === 0) throw new TransientError('S3 is slow today')
      return put(key, body)
    }
    const record = await retrain.run(drop('datasets/motor/a.ndjson'))
    expect(record.status).toBe('SUCCEEDED')
    expect(record.history.filter((e) => e.type === 'TaskRetried').map((e) => e.state)).toEqual(['Train'])
  })

  it('fails a drift run when this runtime cannot export a dataset, naming the way out', async () => {
    const { retrain, notifications } = setup()
    const record = await retrain.run({
      idempotencyKey: 'drift:motor:1',
      reason: 'drift',
      detail: { deviceType: 'motor' },
    })
    expect(record.history.filter((e) => e.type === 'StateEntered').map((e) => e.state)).toContain(
      'ExportDataset',
    )
    expect(JSON.parse(record.cause as string).errorMessage).toMatch(/no dataset exporter/)
    expect(notifications[0]?.outcome).toBe('failed')
  })
})
