/** Wires the core's ingest to the local adapters: the database, MQTT commands and alert sinks. */
import {
  type AlertSink,
  type Clock,
  type CommandPublisher,
  type InboundMessage,
  type IngestDeps,
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

/** The core's ports on the local adapters. */
export function localDeps(db: Database, options: PipelineOptions): IngestDeps {
  return {
    store: db.telemetry,
    state: db.state,
    quarantine: db.quarantine,
    alerts: new FanOutAlertSink(db.alerts, ...(options.alertSinks ?? [])),
    commands: options.commands,
    clock: options.clock ?? systemClock,
  }
}

export function localIngest(db: Database, options: PipelineOptions): Ingest {
  const deps = localDeps(db, options)
  return (messages) => ingest(messages, deps, { rules: options.rules, maxAgeMs: options.maxAgeMs })
}

/**
 * The same, through the AWS handler: each batch becomes the SQS event AWS would deliver (the IoT
 * rule's projection, from the one rule definition) and runs through the deployed handler code.
 * Loaded on demand, so a default local run never loads the AWS SDK.
 */
export async function awsIngest(db: Database, options: PipelineOptions): Promise<Ingest> {
  // EMF metric lines are for CloudWatch; locally the status line and the summary count the same.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'
  const aws = await import('@fleetpipe/functions-aws')
  let last: IngestResult | undefined
  const handler = aws.createSqsHandler(localDeps(db, options), {
    stage: 'local',
    rules: options.rules,
    maxAgeMs: options.maxAgeMs,
    logger: aws.quietLogger(),
    onResult: (result) => {
      last = result
    },
  })
  return async (messages) => {
    const event = aws.sqsEventOf(messages)
    // The bridge subscribes only to what the rule selects; anything else would lose its place here.
    if (event.Records.length !== messages.length) throw new Error('a message the IoT rule would not select')
    last = undefined
    try {
      await handler(event)
    } catch (error) {
      // Powertools throws when every record failed; the result still says which and why.
      if (!last) throw error
    }
    if (!last) throw new Error('the AWS handler returned without ingesting')
    return last
  }
}
