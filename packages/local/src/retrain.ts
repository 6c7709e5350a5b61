/**
 * The retraining pipeline in `fleetpipe dev`: a bucket folder under the data dir (`bucket/`, with
 * `datasets/`, `models/`, `runs/`), the generated state machine run by the local interpreter, and a
 * watcher that starts a run for each dataset dropped under `bucket/datasets/{deviceType}/` — as
 * the S3 → EventBridge → trigger path does in the cloud, named from key and content version, so a
 * file seen twice runs once.
 */
import { copyFile, mkdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { Model, ModelSource, PipelineRun, PipelineTrigger } from '@fleetpipe/core'
import {
  type BlobStore,
  DATASETS_PREFIX,
  type DatasetSource,
  deviceTypeOfKey,
  FolderBlobStore,
  formatOf,
  getText,
  LocalRetrain,
  modelKey,
  type Notifier,
  parseModelText,
  parsePointer,
  pointerKey,
  StoreDatasetExporter,
} from '@fleetpipe/retrain'

export const bucketDir = (dataDir: string) => join(dataDir, 'bucket')
export const executionsDir = (dataDir: string) => join(dataDir, 'executions')

/** With `source`, a drift run (no dataset key) exports its dataset from the store into the bucket. */
export function localRetrain(
  dataDir: string,
  notifier: Notifier,
  options: { source?: DatasetSource } = {},
): { retrain: LocalRetrain; blobs: FolderBlobStore } {
  const blobs = new FolderBlobStore(bucketDir(dataDir))
  const retrain = new LocalRetrain({
    blobs,
    executions: new FolderBlobStore(executionsDir(dataDir)),
    notifier,
    ...(options.source ? { exporter: new StoreDatasetExporter({ blobs, source: options.source }) } : {}),
  })
  return { retrain, blobs }
}

/**
 * Starts runs without waiting for them to finish, as PutEvents hands a run over in the cloud: a
 * drift found while ingesting must not hold the bridge for a training run. `stop` waits for them.
 */
export function backgroundTrigger(
  retrain: LocalRetrain,
  onError: (error: Error) => void,
): PipelineTrigger & { stop(): Promise<void> } {
  const runs = new Set<Promise<unknown>>()
  return {
    async start(run: PipelineRun) {
      const execution = retrain
        .run(run)
        .catch(onError)
        .finally(() => runs.delete(execution))
      runs.add(execution)
    },
    async stop() {
      await Promise.allSettled([...runs])
    },
  }
}

/** Prints each run's outcome, as an SNS subscription would show it. */
export function logNotifier(log: (line: string) => void): Notifier {
  return { notify: async (n) => log(`retrain ${n.outcome}: ${n.subject} — ${n.message}`) }
}

/** Copies a dataset file into the bucket's `datasets/{deviceType}/` and runs the pipeline on it. */
export async function retrainFromFile(
  retrain: LocalRetrain,
  blobs: FolderBlobStore,
  file: string,
  deviceType: string,
) {
  if (!formatOf(file)) throw new Error(`${file}: name the dataset .ndjson, .jsonl or .csv`)
  const key = `${DATASETS_PREFIX}${deviceType}/${basename(file)}`
  const folder = join(blobs.root, DATASETS_PREFIX, deviceType)
  await mkdir(folder, { recursive: true })
  await copyFile(file, join(folder, basename(file)))
  const object = (await blobs.list(key)).find((o) => o.key === key)
  return retrain.run(datasetRun(key, object?.etag ?? ''))
}

/** The run a dataset object starts: its key and content version name it, as bucket, key and sequencer do in S3. */
export function datasetRun(key: string, etag: string) {
  return {
    idempotencyKey: `local/${key}:${etag}`,
    reason: 'dataset' as const,
    detail: { key, deviceType: deviceTypeOfKey(key) as string, etag },
  }
}

/**
 * Polls `datasets/` and starts a run for each new or changed dataset, once it has stopped growing
 * (same size and version on two polls: a `cp` in progress is not a dataset yet). Polling rather
 * than fs.watch, whose recursive mode and event kinds differ by platform.
 */
export function watchDatasets(
  blobs: BlobStore,
  retrain: LocalRetrain,
  options: { intervalMs?: number; onError?: (error: Error) => void } = {},
): { stop(): Promise<void> } {
  const seen = new Map<string, string>()
  const pending = new Map<string, string>()
  const runs = new Set<Promise<unknown>>()
  let stopped = false
  const poll = async () => {
    for (const object of await blobs.list(DATASETS_PREFIX)) {
      if (!formatOf(object.key) || seen.get(object.key) === object.etag) continue
      if (pending.get(object.key) !== object.etag) {
        pending.set(object.key, object.etag)
        continue
      }
      pending.delete(object.key)
      seen.set(object.key, object.etag)
      const run = retrain
        .run(datasetRun(object.key, object.etag))
        .catch((error: Error) => options.onError?.(error))
        .finally(() => runs.delete(run))
      runs.add(run)
    }
  }
  let timer: NodeJS.Timeout | undefined
  const loop = () => {
    if (stopped) return
    poll()
      .catch((error: Error) => options.onError?.(error))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, options.intervalMs ?? 1_000)
      })
  }
  loop()
  return {
    async stop() {
      stopped = true
      clearTimeout(timer)
      await Promise.allSettled([...runs])
    },
  }
}

/**
 * Champion models from the local bucket, for the model-score rule: the pointer is read again at
 * most once per TTL, and an artifact once per version — a promotion changes scoring within the TTL.
 */
export class FolderModelSource implements ModelSource {
  readonly #cache = new Map<string, { model: Model | undefined; checkedAt: number }>()

  constructor(
    private readonly blobs: BlobStore,
    private readonly options: { ttlMs?: number; now?: () => number } = {},
  ) {}

  async current(deviceType: string): Promise<Model | undefined> {
    const now = (this.options.now ?? Date.now)()
    const cached = this.#cache.get(deviceType)
    if (cached && now - cached.checkedAt < (this.options.ttlMs ?? 5_000)) return cached.model
    const text = await getText(this.blobs, pointerKey(deviceType))
    let model: Model | undefined
    if (text !== undefined) {
      const pointer = parsePointer(text)
      model = cached?.model?.version === pointer.version ? cached.model : undefined
      if (!model) {
        const artifact = await getText(this.blobs, modelKey(deviceType, pointer.version))
        if (artifact === undefined) throw new Error(`${pointer.key} is missing`)
        model = parseModelText(artifact)
      }
    }
    this.#cache.set(deviceType, { model, checkedAt: now })
    return model
  }
}
