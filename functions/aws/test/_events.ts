/** Loads a fixture from test/events/aws/ and hands each caller its own deep copy. */
import { readFileSync } from 'node:fs'
import type { SQSEvent } from 'aws-lambda'

const root = new URL('../../../test/events/aws/', import.meta.url)
const parsed = new Map<string, unknown>()

export function loadEvent<T = unknown>(path: string): T {
  let event = parsed.get(path)
  if (event === undefined) {
    event = JSON.parse(readFileSync(new URL(path, root), 'utf8'))
    parsed.set(path, event)
  }
  return structuredClone(event) as T
}

export const sqsEvent = (path: string) => loadEvent<SQSEvent>(path)
