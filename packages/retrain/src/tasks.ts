/**
 * The state machine's task handlers, written against the BlobStore port: each takes the execution's
 * state (the input Step Functions hands a task) and returns the result its state's `ResultPath`
 * stores. A Lambda per task calls these in the cloud; the local interpreter calls them directly.
 */
import { createHash } from 'node:crypto'
import { type Clock, DEVICE_TYPE_PATTERN, type Model, type PipelineRun } from '@fleetpipe/core'
import { type BlobStore, candidateKey, deviceTypeOfKey, getText } from './blob.ts'
import { type RetrainConfig, RetrainConfigSchema } from './config.ts'
import { type DatasetFormat, type DatasetRow, formatOf, readDataset } from './dataset.ts'
import type { TaskName } from './definition.ts'
import { DatasetError } from './errors.ts'
import { type Comparison, compareOnHoldout } from './evaluate.ts'
import { currentModel, type Pointer, parseModelText, promote } from './registry.ts'
import { fnv1a } from './reservoir.ts'
import { MAX_DATASET_METRICS, train } from './train.ts'

/** Where the dataset is; `deviceType` defaults to the key's folder (`datasets/{deviceType}/…`). */
export interface DatasetRef {
  key: string
  deviceType?: string
  bucket?: string
  [more: string]: unknown
}

export interface DatasetSummary {
  key: string
  etag: string
  format: DatasetFormat
  deviceType: string
  bytes: number
  rows: number
  labeled: number
  anomalies: number
  metrics: string[]
  from: number
  to: number
}

export interface CandidateRef {
  key: string
  version: string
  threshold: number
  metrics: string[]
  trainedAt: number
}

export interface Registered extends Pointer {}

/** Step Functions' error output, as a Catch puts it under `ResultPath`. */
export interface TaskFailure {
  Error: string
  Cause: string
}

/** The execution's state as it grows through the states (see definition.ts for each ResultPath). */
export interface RetrainState extends Omit<PipelineRun, 'detail'> {
  detail: Partial<DatasetRef> & { deviceType?: string }
  config: RetrainConfig
  dataset?: DatasetSummary
  candidate?: CandidateRef
  evaluation?: Comparison
  registered?: Registered
  error?: TaskFailure
}

export interface RetrainNotification {
  outcome: 'promoted' | 'kept' | 'failed'
  subject: string
  message: string
  run: string
  deviceType?: string
  version?: string
  evaluation?: Comparison
  error?: { name: string; message: string }
}

/** Where a run's outcome goes: SNS in the cloud, the terminal locally. */
export interface Notifier {
  notify(notification: RetrainNotification): Promise<void>
}

/** Writes a dataset of a device type's recent readings from the store, for a drift-triggered run. */
export interface DatasetExporter {
  export(request: { deviceType: string; since?: number; until?: number; run: string }): Promise<DatasetRef>
}

export interface TaskDeps {
  blobs: BlobStore
  notifier: Notifier
  clock: Clock
  exporter?: DatasetExporter
}

export type TaskHandler = (input: unknown, deps: TaskDeps) => Promise<unknown>

/** A run's short id: its scratch folder, and the suffix of the versions it trains. */
export function runId(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 16)
}

/** A sortable, unique version: when it was trained, and which run trained it. */
export function versionOf(trainedAt: number, run: string): string {
  const stamp = new Date(trainedAt)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${run.slice(0, 6)}`
}

function stateOf(input: unknown): RetrainState {
  if (typeof input !== 'object' || input === null) throw new DatasetError('the task input is not an object')
  const state = input as RetrainState
  if (typeof state.idempotencyKey !== 'string') throw new DatasetError('the task input has no idempotencyKey')
  return { ...state, detail: state.detail ?? {}, config: RetrainConfigSchema.parse(state.config ?? {}) }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined)
    throw new DatasetError(`the task input has no ${what}: a state before this one did not run`)
  return value
}

/** Opens the dataset for one more pass, refusing an object replaced since it was validated. */
function opener(blobs: BlobStore, dataset: DatasetSummary): () => AsyncIterable<DatasetRow> {
  return () =>
    (async function* () {
      const object = await blobs.get(dataset.key)
      if (!object) throw new DatasetError(`${dataset.key} is gone`)
      if (object.etag !== dataset.etag)
        throw new DatasetError(`${dataset.key} changed during the run (a new drop starts its own run)`)
      yield* readDataset(object.body, dataset.format)
    })()
}

export async function validateDataset(input: unknown, { blobs }: TaskDeps): Promise<DatasetSummary> {
  const state = stateOf(input)
  const key = state.detail.key
  if (typeof key !== 'string' || key === '') throw new DatasetError('the run names no dataset key')
  const format = formatOf(key)
  if (!format) throw new DatasetError(`${key}: not a dataset (.ndjson, .jsonl or .csv)`)
  const deviceType = state.detail.deviceType ?? deviceTypeOfKey(key)
  if (!deviceType || !DEVICE_TYPE_PATTERN.test(deviceType))
    throw new DatasetError(`${key}: no device type (put datasets under datasets/{deviceType}/)`)
  const object = await blobs.get(key)
  if (!object) throw new DatasetError(`${key}: no such object`)
  if (object.size > state.config.maxDatasetBytes)
    throw new DatasetError(
      `${key}: ${object.size} bytes, more than the ${state.config.maxDatasetBytes} allowed`,
    )
  const metrics = new Set<string>()
  const summary = { rows: 0, labeled: 0, anomalies: 0, from: Number.POSITIVE_INFINITY, to: 0 }
  for await (const row of readDataset(object.body, format)) {
    summary.rows++
    if (row.label !== undefined) summary.labeled++
    if (row.label === true) summary.anomalies++
    summary.from = Math.min(summary.from, row.reading.ts)
    summary.to = Math.max(summary.to, row.reading.ts)
    for (const metric of Object.keys(row.reading.metrics)) {
      metrics.add(metric)
      if (metrics.size > MAX_DATASET_METRICS)
        throw new DatasetError(`more than ${MAX_DATASET_METRICS} distinct metrics`, row.line)
    }
  }
  if (summary.rows === 0) throw new DatasetError(`${key}: no rows`)
  return {
    key,
    etag: object.etag,
    format,
    deviceType,
    bytes: object.size,
    ...summary,
    metrics: [...metrics].sort(),
  }
}

export async function trainCandidate(input: unknown, { blobs, clock }: TaskDeps): Promise<CandidateRef> {
  const state = stateOf(input)
  const dataset = need(state.dataset, 'dataset')
  const run = runId(state.idempotencyKey)
  const trainedAt = clock.now()
  const model = await train(opener(blobs, dataset), {
    deviceType: dataset.deviceType,
    version: versionOf(trainedAt, run),
    trainedAt,
    seed: fnv1a(state.idempotencyKey),
    config: state.config,
  })
  const key = candidateKey(run)
  await blobs.put(key, `${JSON.stringify(model)}\n`, { contentType: 'application/json' })
  return { key, version: model.version, threshold: model.threshold, metrics: model.metrics, trainedAt }
}

async function loadCandidate(blobs: BlobStore, candidate: CandidateRef): Promise<Model> {
  const text = await getText(blobs, candidate.key)
  if (text === undefined) throw new DatasetError(`the candidate ${candidate.key} is gone`)
  return parseModelText(text)
}

export async function evaluateCandidate(input: unknown, { blobs }: TaskDeps): Promise<Comparison> {
  const state = stateOf(input)
  const dataset = need(state.dataset, 'dataset')
  const candidate = await loadCandidate(blobs, need(state.candidate, 'candidate'))
  const champion = await currentModel(blobs, dataset.deviceType)
  return compareOnHoldout(opener(blobs, dataset)(), { candidate, champion }, state.config)
}

export async function registerCandidate(input: unknown, { blobs, clock }: TaskDeps): Promise<Registered> {
  const state = stateOf(input)
  const dataset = need(state.dataset, 'dataset')
  const evaluation = need(state.evaluation, 'evaluation')
  const candidate = await loadCandidate(blobs, need(state.candidate, 'candidate'))
  const model: Model = {
    ...candidate,
    evaluation: {
      ...candidate.evaluation,
      dataset: dataset.key,
      basis: evaluation.basis,
      improvement: evaluation.improvement,
      holdout: evaluation.candidate,
      ...(evaluation.champion ? { champion: evaluation.champion } : {}),
    },
  }
  return promote(blobs, model, clock.now())
}

export async function notify(
  input: unknown,
  { notifier }: TaskDeps,
): Promise<{ outcome: string; subject: string }> {
  const state = stateOf(input)
  const notification = describe(state)
  await notifier.notify(notification)
  return { outcome: notification.outcome, subject: notification.subject }
}

/** A drift-triggered run has no dataset yet: the store's recent readings of the device type become one. */
export async function exportDataset(input: unknown, { exporter }: TaskDeps): Promise<DatasetRef> {
  const state = stateOf(input)
  const deviceType = state.detail.deviceType
  if (!deviceType) throw new DatasetError('the run names neither a dataset key nor a device type to export')
  if (!exporter)
    throw new DatasetError('this runtime has no dataset exporter: drop a dataset under datasets/ instead')
  const number = (value: unknown) => (typeof value === 'number' ? value : undefined)
  // A drift run exports up to the end of the window that asked for it: a retried export is the same dataset.
  const since = number(state.detail.since)
  const until = number(state.detail.until) ?? number(state.detail.windowEnd)
  return exporter.export({ deviceType, since, until, run: runId(state.idempotencyKey) })
}

export const TASK_HANDLERS: Record<TaskName, TaskHandler> = {
  ExportDataset: exportDataset,
  ValidateDataset: validateDataset,
  Train: trainCandidate,
  Evaluate: evaluateCandidate,
  Register: registerCandidate,
  Notify: notify,
}

/** What the run came to, in words for the people subscribed. */
export function describe(state: RetrainState): RetrainNotification {
  const run = state.idempotencyKey
  const deviceType = state.dataset?.deviceType ?? state.detail.deviceType
  const what = deviceType ? `${deviceType} model` : 'model'
  if (state.error) {
    const error = causeOf(state.error)
    return {
      outcome: 'failed',
      subject: `fleetpipe retraining failed: ${what}`,
      message: `Retraining from ${state.detail.key ?? state.reason} failed — ${error.name}: ${error.message}`,
      run,
      ...(deviceType ? { deviceType } : {}),
      error,
    }
  }
  const evaluation = state.evaluation
  const scores = (s: Comparison['candidate']) =>
    evaluation?.basis === 'f1'
      ? `F1 ${s.f1} (precision ${s.precision}, recall ${s.recall}) at threshold ${s.threshold}`
      : `${(s.flaggedRate * 100).toFixed(2)}% flagged at threshold ${s.threshold}`
  const against = evaluation?.champion
    ? ` against champion ${evaluation.champion.version}: ${scores(evaluation.champion)}`
    : ' (no champion yet)'
  const candidate = evaluation
    ? `candidate ${evaluation.candidate.version}: ${scores(evaluation.candidate)}${against}`
    : ''
  if (state.registered) {
    return {
      outcome: 'promoted',
      subject: `fleetpipe: new ${what} ${state.registered.version}`,
      message: `Promoted ${candidate}. Scoring uses it from the next refresh.`,
      run,
      ...(deviceType ? { deviceType } : {}),
      version: state.registered.version,
      ...(evaluation ? { evaluation } : {}),
    }
  }
  return {
    outcome: 'kept',
    subject: `fleetpipe: ${what} kept`,
    message: `Not promoted (needs +${state.config.minImprovement} ${evaluation?.basis ?? ''}, got ${evaluation?.improvement}): ${candidate}.`,
    run,
    ...(deviceType ? { deviceType } : {}),
    ...(evaluation ? { evaluation } : {}),
  }
}

/**
 * A Catch's error: Lambda puts `{"errorType","errorMessage","trace"}` JSON in `Cause`; the local
 * interpreter does the same; a state timeout's cause is plain text.
 */
export function causeOf(failure: TaskFailure): { name: string; message: string } {
  try {
    const cause = JSON.parse(failure.Cause) as { errorType?: unknown; errorMessage?: unknown }
    if (typeof cause.errorMessage === 'string')
      return {
        name: typeof cause.errorType === 'string' ? cause.errorType : failure.Error,
        message: cause.errorMessage,
      }
  } catch {
    // Not JSON: a plain-text cause.
  }
  return { name: failure.Error, message: failure.Cause }
}
