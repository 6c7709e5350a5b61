/** Wires the core's ingest to the local adapters: the database, MQTT commands and alert sinks. */
import {
  type AlertSink,
  type Clock,
  type CommandPublisher,
  type DriftWatch,
  FanOutAlertSink,
  type InboundMessage,
  type IngestDeps,
  type IngestResult,
  ingest,
  type ModelSource,
  type Rule,
  systemClock,
} from '@fleetpipe/core'
import type { Database } from '@fleetpipe/postgres'

export interface PipelineOptions {
  rules: readonly Rule[]
  maxAgeMs: number
  commands: CommandPublisher
  /** Besides the database's own alert table. */
  alertSinks?: AlertSink[]
  clock?: Clock
  /** Champion models for model-score rules (the local bucket's `models/`). */
  models?: ModelSource
  /** Told each ingest's result, to ask for retraining when a device type's anomaly rate drifts up. */
  drift?: { watch: Pick<DriftWatch, 'observe'>; onError(error: Error): void }
}

export type Ingest = (messages: InboundMessage[]) => Promise<IngestResult>

/** The core's ports on the local adapters. */
export function localDeps(db: Database, options: PipelineOptions): IngestDeps {
  return {
    store: db.telemetry,
    state: db.state,
    quarantine: db.quarantine,
    alerts: new FanOutAlertSink([db.alerts, ...(options.alertSinks ?? [])]),
    commands: options.commands,
    clock: options.clock ?? systemClock,
    models: options.models,
  }
}

export function localIngest(db: Database, options: PipelineOptions): Ingest {
  const deps = localDeps(db, options)
  return async (messages) => {
    const result = await ingest(messages, deps, { rules: options.rules, maxAgeMs: options.maxAgeMs })
    // The readings are stored: a failed drift check must not send them round again. Its run stays due.
    await options.drift?.watch
      .observe(messages, result)
      .catch((error: Error) => options.drift?.onError(error))
    return result
  }
}
