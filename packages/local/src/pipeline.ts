/** Wires the core's ingest to the local adapters: the database, MQTT commands and alert sinks. */
import {
  type AlertSink,
  type Clock,
  type CommandPublisher,
  type InboundMessage,
  type IngestResult,
  ingest,
  type Rule,
  systemClock,
} from '@fleetpipe/core'
import type { Database } from '@fleetpipe/postgres'
import { FanOutAlertSink } from './alert-sinks.ts'

export interface PipelineOptions {
  rules: readonly Rule[]
  maxAgeMs: number
  commands: CommandPublisher
  /** Besides the database's own alert table. */
  alertSinks?: AlertSink[]
  clock?: Clock
}

export type Ingest = (messages: InboundMessage[]) => Promise<IngestResult>

export function localIngest(db: Database, options: PipelineOptions): Ingest {
  const deps = {
    store: db.telemetry,
    state: db.state,
    quarantine: db.quarantine,
    alerts: new FanOutAlertSink(db.alerts, ...(options.alertSinks ?? [])),
    commands: options.commands,
    clock: options.clock ?? systemClock,
  }
  return (messages) => ingest(messages, deps, { rules: options.rules, maxAgeMs: options.maxAgeMs })
}
