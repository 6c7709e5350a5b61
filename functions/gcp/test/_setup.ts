import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Reading, TransientError, type WriteOutcome } from '@fleetpipe/core'
import { ManualClock, MemoryTelemetryStore, memoryDeps } from '@fleetpipe/core/memory'
import { getTestServer } from '@google-cloud/functions-framework/testing'
import { NOW, overTemperature } from '../../../packages/core/test/_fixtures.ts'
import { type CloudEventRequest, createLogger, type HandlerOptions } from '../src/index.ts'

/** The fixtures' readings are from the minutes before this. */
export { NOW }

export const rules = overTemperature

/** The in-memory store, except that writes including `failing`'s readings throw a transient error. */
export class FlakyStore extends MemoryTelemetryStore {
  failing: string | undefined

  constructor(failing?: string) {
    super()
    this.failing = failing
  }

  override async write(readings: readonly Reading[]): Promise<WriteOutcome[]> {
    if (readings.some((r) => r.deviceId === this.failing)) {
      throw new TransientError(`connection terminated writing ${this.failing}'s readings`)
    }
    return super.write(readings)
  }
}

/** In-memory deps at NOW with a store that can fail, and a logger whose lines are kept, parsed. */
export function setup(failing?: string) {
  const store = new FlakyStore(failing)
  const deps = { ...memoryDeps(new ManualClock(NOW)), store }
  const lines: Record<string, unknown>[] = []
  const logger = createLogger({ stage: 'test', write: (line) => lines.push(JSON.parse(line)) })
  const options: HandlerOptions = { stage: 'test', rules, logger }
  return { deps, store, options, lines }
}

export interface Served {
  url: string
  post(request: CloudEventRequest, path?: string): Promise<Response>
  close(): Promise<void>
}

/** The functions-framework's own server for a registered function, listening on loopback. */
export async function serve(name: string): Promise<Served> {
  const server: Server = getTestServer(name)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    post: (request, path = '/') => fetch(`${url}${path}`, { method: 'POST', ...request }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

let registered = 0
/** A function name no other test of this file uses: the framework keeps one registry per process. */
export const uniqueName = (prefix: string) => `${prefix}-${++registered}`
