/**
 * The retraining pipeline without a cloud: the generated definition, run by the local interpreter
 * with the task handlers on a folder bucket. It is a PipelineTrigger, so what starts a Step
 * Functions execution in the cloud (a dataset drop, drift, `fleetpipe retrain`) starts a local run,
 * named after the run's idempotency key: a repeated start runs once, and says how that run ended.
 */
import { type Clock, type PipelineRun, type PipelineTrigger, systemClock } from '@fleetpipe/core'
import { type BlobStore, getText } from './blob.ts'
import type { RetrainConfigInput } from './config.ts'
import {
  retrainDefinition,
  type StateMachineDefinition,
  TASKS,
  type TaskName,
  type TaskResources,
} from './definition.ts'
import { execute, type HistoryEvent } from './interpreter.ts'
import { type DatasetExporter, type Notifier, runId, TASK_HANDLERS, type TaskDeps } from './tasks.ts'

/** Lambda-shaped names, so the local definition validates as the cloud's does. */
export const LOCAL_RESOURCES = Object.fromEntries(
  TASKS.map((task) => [task, `arn:aws:lambda:local:000000000000:function:fleetpipe-retrain-${task}`]),
) as TaskResources

export interface ExecutionRecord {
  name: string
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED'
  input: PipelineRun
  output?: unknown
  error?: string
  cause?: string
  startedAt: number
  stoppedAt?: number
  history: HistoryEvent[]
}

export interface LocalRetrainOptions {
  /** The local bucket: datasets, models, run scratch. */
  blobs: BlobStore
  /** Where execution records go (`{name}.json`), as Step Functions keeps its history. */
  executions: BlobStore
  notifier: Notifier
  exporter?: DatasetExporter
  config?: RetrainConfigInput
  clock?: Clock
  /** Retry waits; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>
}

export class LocalRetrain implements PipelineTrigger {
  readonly definition: StateMachineDefinition
  readonly #running = new Map<string, Promise<ExecutionRecord>>()

  constructor(private readonly options: LocalRetrainOptions) {
    this.definition = retrainDefinition({ resources: LOCAL_RESOURCES, config: options.config })
  }

  async start(run: PipelineRun): Promise<void> {
    await this.run(run)
  }

  /** Runs the pipeline for `run`, or returns the record of the run of that name. */
  run(run: PipelineRun): Promise<ExecutionRecord> {
    const name = `fp-${runId(run.idempotencyKey)}`
    const running = this.#running.get(name)
    if (running) return running
    // Registered before the first await, so a start arriving meanwhile joins this one.
    const execution = (async () => (await this.execution(name)) ?? this.#execute(name, run))().finally(() =>
      this.#running.delete(name),
    )
    this.#running.set(name, execution)
    return execution
  }

  async execution(name: string): Promise<ExecutionRecord | undefined> {
    const text = await getText(this.options.executions, `${name}.json`)
    return text === undefined ? undefined : (JSON.parse(text) as ExecutionRecord)
  }

  /** Every recorded execution, newest first. */
  async executions(): Promise<ExecutionRecord[]> {
    const records: ExecutionRecord[] = []
    for (const object of await this.options.executions.list('')) {
      const text = await getText(this.options.executions, object.key)
      if (text !== undefined && object.key.endsWith('.json'))
        records.push(JSON.parse(text) as ExecutionRecord)
    }
    return records.sort((a, b) => b.startedAt - a.startedAt)
  }

  async #execute(name: string, run: PipelineRun): Promise<ExecutionRecord> {
    const clock = this.options.clock ?? systemClock
    const deps: TaskDeps = {
      blobs: this.options.blobs,
      notifier: this.options.notifier,
      clock,
      ...(this.options.exporter ? { exporter: this.options.exporter } : {}),
    }
    const record: ExecutionRecord = {
      name,
      status: 'RUNNING',
      input: run,
      startedAt: clock.now(),
      history: [],
    }
    const save = () => this.options.executions.put(`${name}.json`, `${JSON.stringify(record, null, 2)}\n`)
    await save()
    const resources = Object.fromEntries(
      TASKS.map((task: TaskName) => [
        LOCAL_RESOURCES[task],
        (input: unknown) => TASK_HANDLERS[task](input, deps),
      ]),
    )
    try {
      const result = await execute(this.definition, run, {
        resources,
        now: () => clock.now(),
        onEvent: (event) => record.history.push(event),
        ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
      })
      Object.assign(record, result)
    } catch (error) {
      // The interpreter refused the definition: a bug here, not a bad dataset.
      Object.assign(record, { status: 'FAILED', error: 'States.Runtime', cause: (error as Error).message })
    }
    record.stoppedAt = clock.now()
    await save()
    return record
  }
}
