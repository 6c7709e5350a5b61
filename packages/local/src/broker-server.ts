/** The embedded MQTT broker for local runs: aedes on 127.0.0.1. */
import { createServer, type Server } from 'node:net'
import { Aedes } from 'aedes'
import { FleetPersistence } from './broker-persistence.ts'

export interface EmbeddedBroker {
  url: string
  port: number
  close(): Promise<void>
}

const MAX_IN_FLIGHT = 20_000

/** Starts aedes on the port asked for (0 for any free port). */
export async function startBroker(options: { port: number; host?: string }): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1'
  const aedes = await Aedes.createBroker({
    persistence: new FleetPersistence(),
    // Deliveries in flight before aedes queues the rest (default 100). Its queue is an array
    // shifted once per delivery, so behind a busy subscriber (the bridge while it commits) a
    // fleet's worth of queued publishes costs time in proportion to its length, for every message.
    // Bounded still: what is in flight to the bridge must stay well under MQTT's 65,535 packet ids.
    concurrency: MAX_IN_FLIGHT,
  })
  const server = createServer(aedes.handle)
  try {
    await listen(server, options.port, host)
  } catch (error) {
    // Its heartbeat timer would keep the process alive after everything else has stopped.
    await new Promise<void>((resolve) => aedes.close(() => resolve()))
    throw error
  }
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  return {
    url: `mqtt://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        aedes.close(() => server.close(() => resolve()))
      }),
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

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}
