/**
 * What AWS would hand the ingest Lambda for some MQTT publishes: the topic rule's projection
 * (`projectRuleEvent`, from the one rule definition) delivered by the SQS action as a batch. For
 * running the AWS handler locally (`fleetpipe dev --cloud aws`) and in tests.
 */
import { createHash, randomUUID } from 'node:crypto'
import { Logger } from '@aws-lambda-powertools/logger'
import type { SQSEvent, SQSRecord } from 'aws-lambda'
import { SERVICE_NAME } from './_report.ts'
import { projectRuleEvent } from './rule-sql.ts'

export interface Publish {
  topic: string
  payload: Uint8Array | string
  /** The MQTT client id, when known (a subscriber never learns a publisher's). */
  clientId?: string
  receivedAt: number
}

const QUEUE_ARN = 'arn:aws:sqs:local:000000000000:fleetpipe-ingest'

/** The SQS event for these publishes; those the rule's FROM/WHERE would not match are left out, as on AWS. */
export function sqsEventOf(publishes: readonly Publish[]): SQSEvent {
  const Records: SQSRecord[] = []
  for (const publish of publishes) {
    const projected = projectRuleEvent(publish)
    if (!projected) continue
    const body = JSON.stringify(projected)
    const sent = String(publish.receivedAt)
    Records.push({
      messageId: randomUUID(),
      receiptHandle: randomUUID(),
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: sent,
        SenderId: 'fleetpipe-local',
        ApproximateFirstReceiveTimestamp: sent,
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: QUEUE_ARN,
      awsRegion: 'local',
    })
  }
  return { Records }
}

/** A logger for local runs: errors only, so the run's own output stays readable. */
export function quietLogger(): Logger {
  return new Logger({ serviceName: SERVICE_NAME, logLevel: 'ERROR' })
}
