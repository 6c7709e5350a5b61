import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type AlertTransition, TransientError } from '@fleetpipe/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { overheatAndCool } from '../../core/test/_fixtures.ts'
import { verifySignature, WebhookAlertSink, WebhookRejectedError } from '../src/index.ts'
import { type Receiver, startReceiver } from './_receiver.ts'

const SECRET = 'whsec_5f2b9c0e7a1d4e8b9c3f6a2d1e0b7c4a'
const noWait = { sleep: async () => {} }

let receiver: Receiver
beforeEach(async () => {
  receiver = await startReceiver(SECRET)
})
afterEach(async () => {
  await receiver.close()
})

const sinkFor = (url: string, options: Partial<ConstructorParameters<typeof WebhookAlertSink>[0]> = {}) =>
  new WebhookAlertSink({ url, secret: SECRET, retry: noWait, ...options })

describe('WebhookAlertSink', () => {
  it('POSTs each transition as JSON, signed so the receiver can verify it, with its ids', async () => {
    const [opened, cleared] = overheatAndCool('esp32-0001') as [AlertTransition, AlertTransition]

    await sinkFor(receiver.url).publish([opened, cleared])

    expect(receiver.received).toHaveLength(2)
    const [first, second] = receiver.received
    expect(first?.verified).toBe(true)
    expect(second?.verified).toBe(true)
    expect(first?.headers).toMatchObject({
      'content-type': 'application/json',
      'fleetpipe-alert-id': opened.alert.id,
      'fleetpipe-event-id': `${opened.alert.id}:opened:${opened.at}`,
      'fleetpipe-signature': expect.stringMatching(/^t=\d+,v1=[0-9a-f]{64}$/),
    })
    expect(JSON.parse(first?.body.toString('utf8') as string)).toEqual(JSON.parse(JSON.stringify(opened)))
    expect(second?.headers['fleetpipe-alert-id']).toBe(opened.alert.id)
    expect(second?.headers['fleetpipe-event-id']).toBe(`${opened.alert.id}:cleared:${cleared.at}`)
  })

  it('signs with the current time, so a receiver can refuse a replay', async () => {
    const sentAt = Date.UTC(2026, 10, 23, 12, 0, 0)
    await sinkFor(receiver.url, { now: () => sentAt }).publish(overheatAndCool().slice(0, 1))
    const { headers, body } = receiver.received[0] as { headers: Record<string, string>; body: Buffer }
    const header = headers['fleetpipe-signature'] as string
    expect(header.startsWith(`t=${sentAt / 1000},`)).toBe(true)
    expect(verifySignature(header, body, SECRET, 300, sentAt + 299_000)).toBe(true)
    expect(verifySignature(header, body, SECRET, 300, sentAt + 301_000)).toBe(false)
    expect(verifySignature(header, body, SECRET, 300, sentAt - 301_000)).toBe(false)
  })

  it('retries a 503, and the retry is signed afresh and verifies', async () => {
    receiver.answers = [503]

    await sinkFor(receiver.url).publish(overheatAndCool().slice(0, 1))

    expect(receiver.received).toHaveLength(2)
    expect(receiver.received.map((r) => r.verified)).toEqual([true, true])
    expect(receiver.received[1]?.headers['fleetpipe-event-id']).toBe(
      receiver.received[0]?.headers['fleetpipe-event-id'],
    )
  })

  it('retries 429 and 408 like a 5xx', async () => {
    receiver.answers = [429, 408, 500]
    await sinkFor(receiver.url).publish(overheatAndCool().slice(0, 1))
    expect(receiver.received).toHaveLength(4)
  })

  it('throws a TransientError once the attempts are spent', async () => {
    receiver.answers = [502, 502, 502]
    const error = await sinkFor(receiver.url, { retry: { ...noWait, attempts: 3 } })
      .publish(overheatAndCool().slice(0, 1))
      .catch((e: unknown) => e)
    expect(receiver.received).toHaveLength(3)
    expect(error).toBeInstanceOf(TransientError)
    expect((error as Error).message).toMatch(
      /^webhook delivery of esp32-0001:over-temperature:\d+:opened:\d+ failed after 3 attempts: http:\/\/127\.0\.0\.1:\d+\/hooks\/fleetpipe answered 502: status 502 from the receiver$/,
    )
  })

  it('throws a WebhookRejectedError at once for a 4xx, saying what the receiver said', async () => {
    receiver.answers = [401]
    const error = await sinkFor(receiver.url)
      .publish(overheatAndCool())
      .catch((e: unknown) => e)
    expect(receiver.received).toHaveLength(1)
    expect(error).toBeInstanceOf(WebhookRejectedError)
    expect(error).not.toBeInstanceOf(TransientError)
    expect((error as WebhookRejectedError).status).toBe(401)
    expect((error as Error).message).toMatch(/answered 401: status 401 from the receiver$/)
  })

  it('does not follow a redirect', async () => {
    receiver.answers = [302]
    const error = await sinkFor(receiver.url)
      .publish(overheatAndCool().slice(0, 1))
      .catch((e: unknown) => e)
    expect(receiver.received).toHaveLength(1)
    expect((error as WebhookRejectedError).status).toBe(302)
  })

  it('treats a refused connection and a hung receiver as transient', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise((resolve) => closed.close(resolve))
    const refused = await sinkFor(`http://127.0.0.1:${port}/`, { retry: { ...noWait, attempts: 2 } })
      .publish(overheatAndCool().slice(0, 1))
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(TransientError)
    expect((refused as Error).message).toMatch(/failed after 2 attempts: TypeError: fetch failed/)

    receiver.hang = true
    const hung = await sinkFor(receiver.url, { timeoutMs: 50, retry: { ...noWait, attempts: 2 } })
      .publish(overheatAndCool().slice(0, 1))
      .catch((e: unknown) => e)
    expect(hung).toBeInstanceOf(TransientError)
    expect(receiver.received).toHaveLength(2)
  })

  it('refuses a URL that does not parse or a missing secret when built, not when an alert fires', () => {
    expect(() => new WebhookAlertSink({ url: 'ops.example.com/hook', secret: SECRET })).toThrow(TypeError)
    expect(() => new WebhookAlertSink({ url: receiver.url, secret: '' })).toThrow(/needs a secret/)
  })
})

describe('verifySignature', () => {
  it('accepts the signature of the exact body, and fails a tampered body', async () => {
    await sinkFor(receiver.url).publish(overheatAndCool().slice(0, 1))
    const { headers, body: received } = receiver.received[0] as {
      headers: Record<string, string>
      body: Buffer
    }
    const header = headers['fleetpipe-signature'] as string
    expect(verifySignature(header, received, SECRET)).toBe(true)
    expect(verifySignature(header, received.toString('utf8'), SECRET)).toBe(true)
    const tampered = received.toString('utf8').replace('"value":85.2', '"value":15.2')
    expect(tampered).not.toBe(received.toString('utf8'))
    expect(verifySignature(header, tampered, SECRET)).toBe(false)
    expect(verifySignature(header, received, `${SECRET}x`)).toBe(false)
  })
})
