/**
 * The paths a publish can take into the core: the local bridge's, and each cloud's handler fed the
 * event its platform would deliver. A path turns one delivery of publishes into what its transport
 * would deliver again; a new cloud only adds its entry here.
 */

import { InvocationContext } from '@azure/functions'
import {
  type InboundMessage,
  type IngestDeps,
  type IngestOptions,
  type IngestResult,
  ingest,
} from '@fleetpipe/core'
import * as aws from '@fleetpipe/functions-aws'
import * as azure from '@fleetpipe/functions-azure'
import * as gcp from '@fleetpipe/functions-gcp'
import type { Publish } from './scenarios.ts'

/** Delivers publishes once; answers those the transport will deliver again (failed transiently). */
export type Deliver = (publishes: Publish[]) => Promise<Publish[]>

export interface Path {
  name: string
  /** `observe` sees every ingest call's result. */
  start(
    deps: IngestDeps,
    options: IngestOptions,
    observe: (result: IngestResult) => void,
  ): Promise<{ deliver: Deliver; stop(): Promise<void> }>
}

/**
 * The local bridge: a batch of MQTT messages into one ingest call, the failed ones again. A
 * subscriber never learns the publisher's client id, so no transport identity comes with them.
 */
const local: Path = {
  name: 'local',
  async start(deps, options, observe) {
    const deliver: Deliver = async (publishes) => {
      const messages: InboundMessage[] = publishes.map((p) => ({
        topic: p.topic,
        payload: p.payload,
        receivedAt: p.receivedAt,
        source: 'mqtt',
      }))
      const result = await ingest(messages, deps, options)
      observe(result)
      const again = new Set(result.records.filter((r) => r.outcome === 'failed').map((r) => r.message))
      return publishes.filter((_, i) => again.has(i))
    }
    return { deliver, stop: async () => {} }
  },
}

/** IoT rule → SQS → Lambda: one SQS batch event; the batch item failures come back. */
const awsSqs: Path = {
  name: 'aws',
  async start(deps, options, observe) {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true'
    const handler = aws.createSqsHandler(deps, {
      ...options,
      stage: 'conformance',
      logger: aws.quietLogger(),
      onResult: observe,
    })
    const deliver: Deliver = async (publishes) => {
      const event = aws.sqsEventOf(publishes)
      const failed = await handler(event).then(
        (response) => new Set(response.batchItemFailures.map((f) => f.itemIdentifier)),
        // Every record failed: Powertools throws rather than list them all.
        () => new Set(event.Records.map((r) => r.messageId)),
      )
      return publishes.filter((_, i) => failed.has(event.Records[i]?.messageId ?? ''))
    }
    return { deliver, stop: async () => {} }
  },
}

/**
 * MQTT bridge → Pub/Sub → Eventarc → Cloud Run: each message POSTed to the functions-framework's
 * server as a CloudEvent (binary and structured modes in turn); a non-2xx answer is redelivered.
 */
const gcpPubSub: Path = {
  name: 'gcp',
  async start(deps, options, observe) {
    const handler = gcp.createPubSubHandler(deps, {
      ...options,
      stage: 'conformance',
      logger: gcp.quietLogger(),
      onResult: observe,
    })
    const served = await gcp.serveLocally(handler)
    let sent = 0
    const deliver: Deliver = async (publishes) => {
      const again: Publish[] = []
      for (const publish of publishes) {
        const event = gcp.cloudEventOf(publish)
        const request = sent++ % 2 === 0 ? gcp.binaryRequestOf(event) : gcp.structuredRequestOf(event)
        const response = await served.post(request)
        await response.arrayBuffer()
        if (!response.ok) again.push(publish)
      }
      return again
    }
    return { deliver, stop: () => served.close() }
  },
}

/**
 * IoT Hub → Event Hub → Functions: one batch with its trigger metadata. The handler retries in
 * the invocation and dead-letters what outlasts its retries, so the host delivers nothing again
 * unless the handler throws.
 */
const azureEventHub: Path = {
  name: 'azure',
  async start(deps, options, observe) {
    const handler = azure.createEventHubHandler(deps, {
      ...options,
      stage: 'conformance',
      retry: { sleep: async () => {} },
      onResult: observe,
    })
    let sequence = 0
    const deliver: Deliver = async (publishes) => {
      const batch = azure.eventHubBatchOf(publishes, sequence)
      sequence += publishes.length
      const context = new InvocationContext({ triggerMetadata: batch.triggerMetadata, logHandler: () => {} })
      return handler(batch.messages, context).then(
        () => [],
        () => publishes,
      )
    }
    return { deliver, stop: async () => {} }
  },
}

export const paths: Path[] = [local, awsSqs, gcpPubSub, azureEventHub]
