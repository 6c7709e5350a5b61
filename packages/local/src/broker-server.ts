/** The embedded MQTT broker itself: aedes on 127.0.0.1, as its own thread runs it (`broker.ts`). */
import { createServer, type Server } from 'node:net'
import { parseTopic } from '@fleetpipe/core'
import { Aedes, type Client } from 'aedes'
import { FleetPersistence } from './broker-persistence.ts'

export interface BrokerServer {
  url: string
  port: number
  /**
   * Messages clients published on the fleet's inbound topics (telemetry and status, last wills
   * included) that the broker took: what the pipeline owes an account of.
   */
  accepted(): number
  /**
   * Takes no more connections and closes every one but `clientId`'s (the bridge), so what was
   * accepted can still drain to it and nothing new arrives.
   */
  closeAllBut(clientId: string): Promise<void>
  close(): Promise<void>
}

const MAX_IN_FLIGHT = 20_000

/** Serves aedes on the port asked for (0 for any free port). */
export async function serveBroker(options: {
  port: number
  host?: string
  /** Told of each message `accepted()` counts. */
  onAccepted?: () => void
}): Promise<BrokerServer> {
  const host = options.host ?? '127.0.0.1'
  /** Once closing, the one client still let in (the bridge, should it reconnect). */
  let only: string | undefined
  const aedes = await Aedes.createBroker({
    persistence: new FleetPersistence(),
    authenticate: (client, _username, _password, done) =>
      done(null, only === undefined || client.id === only),
    // Deliveries in flight before aedes queues the rest (default 100). Its queue is an array
    // shifted once per delivery, so behind a busy subscriber (the bridge while it commits) a
    // fleet's worth of queued publishes costs time in proportion to its length, for every message.
    // Bounded still: what is in flight to the bridge must stay well under MQTT's 65,535 packet ids.
    concurrency: MAX_IN_FLIGHT,
  })
  let accepted = 0
  aedes.on('publish', (packet, client) => {
    if (!client) return
    const channel = parseTopic(packet.topic)?.channel
    if (channel !== 'telemetry' && channel !== 'status') return
    accepted++
    options.onAccepted?.()
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
    accepted: () => accepted,
    closeAllBut: async (clientId) => {
      only = clientId
      // `clients` (id → connection) is aedes' own, left out of its type declarations.
      const clients = (aedes as unknown as { clients: Record<string, Client> }).clients
      const others = Object.values(clients).filter((c) => c.id !== clientId)
      await Promise.all(others.map((c) => new Promise<void>((resolve) => c.close(() => resolve()))))
    },
    close: () =>
      new Promise<void>((resolve) => {
        aedes.close(() => server.close(() => resolve()))
      }),
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
