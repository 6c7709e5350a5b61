/**
 * Serving the embedded database over the PostgreSQL wire protocol, so that while one process
 * owns the PGlite files, psql, Grafana and `fleetpipe query` can still reach the data.
 */
import type { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

export interface EmbeddedServer {
  url: string
  stop(): Promise<void>
}

export async function serveEmbedded(
  db: PGlite,
  options: { host?: string; port: number },
): Promise<EmbeddedServer> {
  const host = options.host ?? '127.0.0.1'
  const server = new PGLiteSocketServer({ db, host, port: options.port, maxConnections: 16 })
  await server.start()
  // With port 0 the system picks one; the server reports which.
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`,
    stop: () => server.stop(),
  }
}
