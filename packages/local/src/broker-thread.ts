/**
 * The embedded broker's thread: serves aedes and answers the thread that started it (`broker.ts`).
 * What it accepted is counted in memory both threads share, so reading it costs no message.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { serveBroker } from './broker-server.ts'

export interface BrokerThreadData {
  port: number
  host: string
  /** One 64-bit slot: messages accepted on the fleet's inbound topics. */
  accepted: SharedArrayBuffer
}

export type BrokerCommand = { type: 'closeAllBut'; clientId: string } | { type: 'close' }
export type BrokerRequest = BrokerCommand & { id: number }

export type BrokerReport =
  | { type: 'listening'; url: string; port: number }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'done'; id: number }

const port = parentPort
if (!port) throw new Error('broker-thread.ts runs as a worker thread (see broker.ts)')
const data = workerData as BrokerThreadData
const accepted = new BigInt64Array(data.accepted)
const say = (report: BrokerReport) => port.postMessage(report)

try {
  const server = await serveBroker({
    port: data.port,
    host: data.host,
    onAccepted: () => Atomics.add(accepted, 0, 1n),
  })
  port.on('message', async (request: BrokerRequest) => {
    if (request.type === 'closeAllBut') await server.closeAllBut(request.clientId)
    else await server.close()
    say({ type: 'done', id: request.id })
    // With the server and the port closed, nothing is left to keep the thread running.
    if (request.type === 'close') port.close()
  })
  say({ type: 'listening', url: server.url, port: server.port })
} catch (error) {
  const { message, code } = error as NodeJS.ErrnoException
  say({ type: 'failed', message, ...(code ? { code } : {}) })
}
