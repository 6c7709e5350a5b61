/**
 * Translation from AWS events to the core's `InboundMessage`. Nothing is dropped and nothing
 * throws: an event that is not the rule's projection becomes a message on no topic, carrying the
 * whole event as its payload, which the core quarantines (`unknown_topic`) with the raw kept.
 */
import type { InboundMessage } from '@fleetpipe/core'
import type { SQSRecord } from 'aws-lambda'
import type * as z from 'zod/mini'
import { type IotRuleEvent, IotRuleEventSchema, NO_CLIENT_ID } from './rule-sql.ts'

export interface Translated {
  message: InboundMessage
  /** Why the event was not the rule's projection: where (field path) and what. */
  problem?: { path: string; issue: string }
}

/** One IoT rule event, as the Lambda action delivers it. */
export function fromRuleEvent(event: unknown, now: number): Translated {
  const parsed = IotRuleEventSchema.safeParse(event)
  if (parsed.success) return { message: toInbound(parsed.data) }
  return {
    message: foreign(JSON.stringify(event) ?? String(event), now, 'aws-iot'),
    problem: firstIssue(parsed.error, ''),
  }
}

/** One SQS record whose body is the rule's projection as JSON (the SQS action with useBase64 off). */
export function fromSqsRecord(record: SQSRecord, index: number, now: number): Translated {
  const at = `Records.${index}.body`
  let body: unknown
  try {
    body = JSON.parse(record.body)
  } catch (error) {
    return {
      message: foreign(record.body, sentAt(record, now), 'aws-sqs'),
      problem: { path: at, issue: `not JSON: ${(error as Error).message}` },
    }
  }
  const parsed = IotRuleEventSchema.safeParse(body)
  if (parsed.success) return { message: toInbound(parsed.data) }
  return {
    message: foreign(record.body, sentAt(record, now), 'aws-sqs'),
    problem: firstIssue(parsed.error, at),
  }
}

function toInbound(event: IotRuleEvent): InboundMessage {
  const message: InboundMessage = {
    topic: event.topic,
    payload: Buffer.from(event.payload, 'base64'),
    receivedAt: event.receivedAt,
    source: 'aws-iot',
  }
  // The fleet's IoT policy ties the client id to the thing name, which is the device id: the
  // transport's word on who sent it, which the core holds the payload's deviceId to.
  if (event.clientId !== undefined && event.clientId !== NO_CLIENT_ID) {
    message.transportDeviceId = event.clientId
  }
  return message
}

function foreign(raw: string, receivedAt: number, source: string): InboundMessage {
  return { topic: '', payload: raw, receivedAt, source }
}

function sentAt(record: SQSRecord, now: number): number {
  const sent = Number(record.attributes?.SentTimestamp)
  return Number.isFinite(sent) ? sent : now
}

function firstIssue(error: z.core.$ZodError, prefix: string): { path: string; issue: string } {
  const issue = error.issues[0]
  const path = [prefix, ...(issue?.path.map(String) ?? [])].filter(Boolean).join('.')
  return { path, issue: issue?.message ?? 'not the rule projection' }
}
