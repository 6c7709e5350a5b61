/**
 * `fleetpipe dev --cloud aws|gcp|azure`: every batch the bridge takes goes through that cloud's
 * deployed handler, fed the events the platform would deliver, over the same local adapters.
 * Each answers the bridge as the core does — one outcome per record, by message — so the bridge
 * acknowledges, retries and counts exactly as on the default path. The handlers are loaded on
 * demand: a default run loads no cloud SDK.
 */
import { countRecords, type InboundMessage, type IngestResult, type RecordResult } from '@fleetpipe/core'
import type { Database } from '@fleetpipe/postgres'
import { type Ingest, localDeps, localIngest, type PipelineOptions } from './pipeline.ts'

export const CLOUDS = ['local', 'aws', 'gcp', 'azure'] as const
export type Cloud = (typeof CLOUDS)[number]

/** For the start-up line: the path a message takes. */
export const CLOUD_PATHS: Record<Cloud, string> = {
  local: '',
  aws: 'the AWS handler (IoT rule → SQS → Lambda)',
  gcp: 'the GCP function (Pub/Sub → Eventarc CloudEvent → functions-framework)',
  azure: 'the Azure function (IoT Hub → Event Hub trigger)',
}

export interface CloudIngest {
  ingest: Ingest
  stop(): Promise<void>
}

export async function cloudIngest(
  cloud: Cloud,
  db: Database,
  options: PipelineOptions,
): Promise<CloudIngest> {
  switch (cloud) {
    case 'local':
      return { ingest: localIngest(db, options), stop: async () => {} }
    case 'aws':
      return { ingest: await awsIngest(db, options), stop: async () => {} }
    case 'gcp':
      return gcpIngest(db, options)
    case 'azure':
      return { ingest: await azureIngest(db, options), stop: async () => {} }
  }
}

/** Each batch as the SQS event AWS would deliver: the IoT rule's projection, from the one rule definition. */
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
    ...(options.drift ? { drift: options.drift.watch } : {}),
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

/**
 * Each message as the CloudEvent Eventarc would POST for it, to the functions-framework's own
 * server on loopback: one invocation per message, as on Cloud Run. A non-2xx answer leaves the
 * message's records failed, and the bridge delivers it again, as Pub/Sub would.
 */
export async function gcpIngest(db: Database, options: PipelineOptions): Promise<CloudIngest> {
  const gcp = await import('@fleetpipe/functions-gcp')
  let last: IngestResult | undefined
  const handler = gcp.createPubSubHandler(localDeps(db, options), {
    stage: 'local',
    rules: options.rules,
    maxAgeMs: options.maxAgeMs,
    logger: gcp.quietLogger(),
    onResult: (result) => {
      last = result
    },
  })
  const served = await gcp.serveLocally(handler)
  const ingest: Ingest = async (messages) => {
    const records: RecordResult[] = []
    const transitions: IngestResult['transitions'] = []
    for (const [index, message] of messages.entries()) {
      last = undefined
      const response = await served.post(gcp.binaryRequestOf(gcp.cloudEventOf(message)))
      const body = await response.text()
      if (!last) {
        records.push({
          message: index,
          kind: 'message',
          outcome: 'failed',
          detail: body || response.statusText,
        })
        continue
      }
      const result: IngestResult = last
      for (const record of result.records) records.push({ ...record, message: index })
      transitions.push(...result.transitions)
    }
    return { records, transitions, counts: countRecords(records, transitions) }
  }
  return { ingest, stop: () => served.close() }
}

/**
 * Each batch as the Functions host would hand it over from IoT Hub's Event Hub-compatible endpoint,
 * bodies and trigger metadata. The handler retries transient failures itself and dead-letters
 * (`retries_exhausted`, in the local quarantine) what outlasts them: those records are settled.
 */
export async function azureIngest(db: Database, options: PipelineOptions): Promise<Ingest> {
  const [azure, { InvocationContext }] = await Promise.all([
    import('@fleetpipe/functions-azure'),
    import('@azure/functions'),
  ])
  let last: import('@fleetpipe/functions-azure').EventHubResult | undefined
  const handler = azure.createEventHubHandler(localDeps(db, options), {
    stage: 'local',
    rules: options.rules,
    maxAgeMs: options.maxAgeMs,
    onResult: (result) => {
      last = result
    },
  })
  let sequence = 0
  return async (messages: InboundMessage[]) => {
    const batch = azure.eventHubBatchOf(messages, sequence)
    sequence += messages.length
    last = undefined
    // Its log line is for Application Insights; locally the status line counts the same.
    const context = new InvocationContext({ triggerMetadata: batch.triggerMetadata, logHandler: () => {} })
    await handler(batch.messages, context)
    if (!last) throw new Error('the Azure handler returned without ingesting')
    const result: import('@fleetpipe/functions-azure').EventHubResult = last
    const deadLettered = result.deadLetters.length > 0
    const records = result.records.map(
      (record): RecordResult =>
        deadLettered && record.outcome === 'failed'
          ? { ...record, outcome: 'quarantined', reason: 'retries_exhausted' }
          : record,
    )
    return { records, transitions: result.transitions, counts: countRecords(records, result.transitions) }
  }
}
