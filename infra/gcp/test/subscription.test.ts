import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { defaultRules } from '@fleetpipe/core'
import { ManualClock, memoryDeps } from '@fleetpipe/core/memory'
import { getTestServer } from '@google-cloud/functions-framework/testing'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { pubSubMessageOf } from '../../../functions/gcp/src/emulate.ts'
import { quietLogger } from '../../../functions/gcp/src/logger.ts'
import { createPubSubHandler } from '../../../functions/gcp/src/pubsub.ts'
import { registerIngest } from '../../../functions/gcp/src/register.ts'
import { ackDeadlineSeconds } from '../subscription.ts'
import { buildStages, FUNCTION_TIMEOUT_SECONDS, PROJECT, runUri, type Stage, value } from './_mocks.ts'

let dev: Stage
let production: Stage

beforeAll(async () => {
  ;({ dev, production } = await buildStages())
})

describe('the ingest push subscription', () => {
  it('reads the telemetry topic and pushes to the function, signed with the invoker account', async () => {
    const { ingest } = dev.edge.subscriptions
    expect(await value(ingest.name)).toBe('fleetpipe-dev-telemetry-ingest')
    expect(await value(ingest.topic)).toBe(await value(dev.edge.topics.telemetry.id))
    const uri = runUri('fleetpipe-dev-ingest')
    expect(await value(dev.edge.functionUri)).toBe(uri)
    expect(await value(ingest.pushConfig)).toEqual({
      pushEndpoint: `${uri}/projects/${PROJECT}/topics/fleetpipe-dev-telemetry`,
      oidcToken: {
        serviceAccountEmail: await value(dev.edge.accounts.invoker.email),
        // The service's URL, not the endpoint with its path.
        audience: uri,
      },
    })
  })

  it('retries with exponential backoff from 10 s to 600 s, then dead-letters after 10 attempts', async () => {
    const { ingest } = dev.edge.subscriptions
    expect(await value(ingest.retryPolicy)).toEqual({ minimumBackoff: '10s', maximumBackoff: '600s' })
    expect(await value(ingest.deadLetterPolicy)).toEqual({
      deadLetterTopic: `projects/${PROJECT}/topics/fleetpipe-dev-telemetry-dead-letter`,
      maxDeliveryAttempts: 10,
    })
    expect(await value(ingest.deadLetterPolicy)).toMatchObject({
      deadLetterTopic: await value(dev.edge.topics.deadLetter.id),
    })
  })

  it('waits for the answer at least as long as the function may run, and never expires', async () => {
    const { ingest } = dev.edge.subscriptions
    const deadline = await value(ingest.ackDeadlineSeconds)
    expect(deadline).toBeGreaterThanOrEqual(FUNCTION_TIMEOUT_SECONDS)
    expect(deadline).toBe(FUNCTION_TIMEOUT_SECONDS + 10)
    expect(ackDeadlineSeconds(590)).toBe(600)
    expect(() => ackDeadlineSeconds(591)).toThrow(/at most 590 s/)
    expect(await value(ingest.messageRetentionDuration)).toBe('604800s')
    expect(await value(ingest.expirationPolicy)).toEqual({ ttl: '' })
  })

  it('pushes to a path the functions-framework turns into the messagePublished event the handler stores', async () => {
    const endpoint = new URL(
      await value(dev.edge.subscriptions.ingest.pushConfig).then((c) => c?.pushEndpoint ?? ''),
    )
    const now = Date.parse('2025-01-01T00:00:00Z')
    const deps = memoryDeps(new ManualClock(now))
    const name = 'ingest-infra-gcp-push'
    registerIngest(
      name,
      createPubSubHandler(deps, { stage: 'test', rules: defaultRules, logger: quietLogger() }),
    )
    const url = await listen(getTestServer(name))
    const payload = { v: 1, deviceId: 'esp32-0001', ts: now - 1000, seq: 1, metrics: { temperature: 23.5 } }
    // A raw push body, as Pub/Sub sends it to the endpoint: the message and the subscription.
    const message = pubSubMessageOf({
      topic: 'fleet/esp32-0001/telemetry',
      payload: JSON.stringify(payload),
      clientId: 'esp32-0001',
      receivedAt: now,
    })
    const response = await fetch(new URL(endpoint.pathname, url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message, subscription: await value(dev.edge.subscriptions.ingest.id) }),
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ received: 1, stored: 1 })
    expect([...deps.store.rows.values()]).toMatchObject([{ deviceId: 'esp32-0001', seq: 1 }])
  })
})

describe('the dead letters', () => {
  it('are kept 7 days on a pull subscription of the dead-letter topic, for replay', async () => {
    const { deadLetters } = dev.edge.subscriptions
    expect(await value(deadLetters.name)).toBe('fleetpipe-dev-telemetry-dead-letter')
    expect(await value(deadLetters.topic)).toBe(await value(dev.edge.topics.deadLetter.id))
    expect(await value(deadLetters.pushConfig)).toBeUndefined()
    expect(await value(deadLetters.messageRetentionDuration)).toBe('604800s')
    expect(await value(deadLetters.expirationPolicy)).toEqual({ ttl: '' })
    // The end of the line: no dead-letter policy of its own.
    expect(await value(deadLetters.deadLetterPolicy)).toBeUndefined()
  })
})

describe('the topics', () => {
  it('keep telemetry a day in dev and 7 days in production, dead letters 7 days, and nothing else', async () => {
    expect(await value(dev.edge.topics.telemetry.messageRetentionDuration)).toBe('86400s')
    expect(await value(production.edge.topics.telemetry.messageRetentionDuration)).toBe('604800s')
    for (const stage of [dev, production]) {
      const { deadLetter, alerts, commands } = stage.edge.topics
      expect(await value(deadLetter.messageRetentionDuration)).toBe('604800s')
      expect(await value(alerts.messageRetentionDuration)).toBeUndefined()
      expect(await value(commands.messageRetentionDuration)).toBeUndefined()
    }
  })
})

describe("the bridge's commands subscription", () => {
  it('is a pull subscription of the commands topic that keeps commands a day and never expires', async () => {
    const { commands } = dev.edge.subscriptions
    expect(await value(commands.name)).toBe('fleetpipe-dev-commands-bridge')
    expect(await value(commands.topic)).toBe(await value(dev.edge.topics.commands.id))
    expect(await value(commands.pushConfig)).toBeUndefined()
    expect(await value(commands.messageRetentionDuration)).toBe('86400s')
    expect(await value(commands.expirationPolicy)).toEqual({ ttl: '' })
  })
})

const servers: Server[] = []

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

async function listen(server: Server): Promise<string> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}
