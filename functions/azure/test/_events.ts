/** Loads an Event Hub batch from test/events/azure/ (each caller gets its own copy) and invokes handlers with it. */
import { readFileSync } from 'node:fs'
import { InvocationContext, type LogLevel } from '@azure/functions'
import type { EventHubBatch } from '../src/emulate.ts'

const root = new URL('../../../test/events/azure/', import.meta.url)
const parsed = new Map<string, unknown>()

export function loadBatch(path: string): EventHubBatch {
  let batch = parsed.get(path)
  if (batch === undefined) {
    batch = JSON.parse(readFileSync(new URL(path, root), 'utf8'))
    parsed.set(path, batch)
  }
  return structuredClone(batch) as EventHubBatch
}

export interface LogLine {
  level: LogLevel
  line: Record<string, unknown>
}

/** An invocation context as the host makes one for this batch, keeping what the handler logs. */
export function contextFor(batch: EventHubBatch, logs: LogLine[] = []): InvocationContext {
  return new InvocationContext({
    invocationId: 'c0ffee00-0000-4000-8000-000000000001',
    functionName: 'ingest',
    triggerMetadata: batch.triggerMetadata,
    logHandler: (level, ...args) => {
      logs.push({ level, line: JSON.parse(String(args[0])) })
    },
  })
}
