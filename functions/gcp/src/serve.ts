/**
 * The function served by the functions-framework's own HTTP server on loopback, as Cloud Run
 * runs it: for a local run (`fleetpipe dev --cloud gcp`) and cross-cloud tests, which POST the
 * CloudEvents Eventarc would.
 */
import type { AddressInfo } from 'node:net'
import { getTestServer } from '@google-cloud/functions-framework/testing'
import type { CloudEventRequest } from './emulate.ts'
import type { PubSubHandler } from './pubsub.ts'
import { registerIngest } from './register.ts'

export interface ServedFunction {
  url: string
  post(request: CloudEventRequest): Promise<Response>
  close(): Promise<void>
}

let served = 0

export async function serveLocally(handler: PubSubHandler): Promise<ServedFunction> {
  // The framework keeps one registry per process: each served handler gets a name of its own.
  const name = `ingest-local-${++served}`
  registerIngest(name, handler)
  const server = getTestServer(name)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  return {
    url,
    post: (request) => fetch(url, { method: 'POST', headers: request.headers, body: request.body }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}
