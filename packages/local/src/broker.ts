/**
 * The embedded MQTT broker for local runs: aedes on 127.0.0.1, on a thread of its own. At fleet
 * scale the broker's work (every message in from a device and out to the bridge) is as much as the
 * pipeline's; on one event loop the two starved each other (a 10,000-device fleet at 1 Hz fell
 * behind, then the bridge's keepalive lapsed).
 */
import { Worker } from 'node:worker_threads'
import type { BrokerCommand, BrokerReport, BrokerThreadData } from './broker-thread.ts'

export interface EmbeddedBroker {
  url: string
  port: number
  /**
   * Messages clients published on the fleet's inbound topics (telemetry and status, last wills
   * included) that the broker took: what the pipeline owes an account of.
   */
  accepted(): number
  /**
   * Closes every connection but `clientId`'s (the bridge) and lets no other in again, so what was
   * accepted can still drain to it, even over a new connection, and nothing new arrives.
   */
  closeAllBut(clientId: string): Promise<void>
  close(): Promise<void>
}

/** Starts the broker on the port asked for (0 for any free port). */
export async function startBroker(options: { port: number; host?: string }): Promise<EmbeddedBroker> {
  const accepted = new SharedArrayBuffer(8)
  const data: BrokerThreadData = { port: options.port, host: options.host ?? '127.0.0.1', accepted }
  const worker = new Worker(typeScriptEntry(new URL('./broker-thread.ts', import.meta.url)), {
    eval: true,
    workerData: data,
  })
  const waiting = new Map<number, () => void>()
  let nextId = 0
  const request = (message: BrokerCommand) =>
    new Promise<void>((resolve) => {
      const id = nextId++
      waiting.set(id, resolve)
      worker.postMessage({ ...message, id })
    })

  const started = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    worker.on('message', (report: BrokerReport) => {
      if (report.type === 'listening') resolve(report)
      else if (report.type === 'failed') {
        void worker.terminate()
        reject(Object.assign(new Error(report.message), report.code ? { code: report.code } : {}))
      } else {
        waiting.get(report.id)?.()
        waiting.delete(report.id)
      }
    })
    worker.once('error', reject)
  })
  const count = new BigInt64Array(accepted)
  return {
    ...started,
    accepted: () => Number(Atomics.load(count, 0)),
    closeAllBut: (clientId) => request({ type: 'closeAllBut', clientId }),
    close: async () => {
      await request({ type: 'close' })
      await worker.terminate()
    },
  }
}

/**
 * Starts on the preferred port, or on a free one when it is taken; `fallback` tells the caller
 * so it can say so.
 */
export async function startBrokerWithFallback(options: {
  port: number
  host?: string
}): Promise<EmbeddedBroker & { fallback: boolean }> {
  try {
    return { ...(await startBroker(options)), fallback: false }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
    return { ...(await startBroker({ ...options, port: 0 })), fallback: true }
  }
}

/**
 * A worker's code that loads a TypeScript module as this process does: tsx's loader (found from
 * here, not from the working directory) registered first, then the module.
 */
function typeScriptEntry(module: URL): string {
  const tsx = import.meta.resolve('tsx/esm/api')
  return `import(${JSON.stringify(tsx)})
    .then(({ register }) => register())
    .then(() => import(${JSON.stringify(module.href)}))`
}
