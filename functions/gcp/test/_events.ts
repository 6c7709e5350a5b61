/** Loads a fixture from test/events/gcp/ and hands each caller its own deep copy. */
import { readFileSync } from 'node:fs'
import type { CloudEventRequest, MessagePublishedEvent } from '../src/index.ts'

const root = new URL('../../../test/events/gcp/', import.meta.url)
const parsed = new Map<string, unknown>()

export function loadEvent<T = unknown>(path: string): T {
  let event = parsed.get(path)
  if (event === undefined) {
    event = JSON.parse(readFileSync(new URL(path, root), 'utf8'))
    parsed.set(path, event)
  }
  return structuredClone(event) as T
}

export const pubsubEvent = (name: string) => loadEvent<MessagePublishedEvent>(`pubsub/${name}.json`)
export const httpRequest = (name: string) => loadEvent<CloudEventRequest>(`http/${name}.json`)

/** The device payload a Pub/Sub fixture carries, as text. */
export const payloadOf = (event: MessagePublishedEvent) =>
  Buffer.from(event.data.message.data, 'base64').toString('utf8')
