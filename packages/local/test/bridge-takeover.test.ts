import { expect, it, vi } from 'vitest'
import { Bridge } from '../src/bridge.ts'
import { startBroker } from '../src/broker.ts'

it('says so when another bridge with the same id keeps taking the session over', async () => {
  const broker = await startBroker({ port: 0 })
  const errors: string[] = []
  const options = { brokerUrl: broker.url, clientId: 'one-id', batchSize: 10, flushMs: 5 }
  const first = await Bridge.connect({ ...options, onError: (error) => errors.push(error.message) })
  const second = await Bridge.connect({ ...options, onError: () => {} })

  await vi.waitFor(() => expect(errors.some((e) => e.includes('taking the session over'))).toBe(true), {
    timeout: 15_000,
  })
  expect(errors.filter((e) => e.includes('taking the session over'))).toEqual([
    "the broker keeps closing the bridge's connection soon after accepting it: another client with id one-id (another fleetpipe dev?) may be taking the session over; give each bridge its own --bridge-id",
  ])
  await Promise.all([first.client.endAsync(true), second.client.endAsync(true)])
  await broker.close()
}, 30_000)
