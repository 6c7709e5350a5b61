/** A real HTTP receiver on loopback that verifies each request's signature as a user's would. */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { verifySignature } from '../src/index.ts'

export interface Received {
  headers: IncomingHttpHeaders
  body: Buffer
  verified: boolean
}

export interface Receiver {
  url: string
  received: Received[]
  /** The status of each next answer; 200 once they run out. */
  answers: number[]
  /** Requests that get no answer at all (a hung receiver). */
  hang: boolean
  close(): Promise<void>
}

export async function startReceiver(secret: string): Promise<Receiver> {
  const receiver: Receiver = { url: '', received: [], answers: [], hang: false, close: async () => {} }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const verified = verifySignature(req.headers['fleetpipe-signature'] as string | undefined, body, secret)
      receiver.received.push({ headers: req.headers, body, verified })
      if (receiver.hang) return
      const status = receiver.answers.shift() ?? 200
      if (status >= 300 && status < 400) res.setHeader('location', 'https://elsewhere.example/')
      res.writeHead(status, { 'content-type': 'text/plain' })
      res.end(status >= 400 ? `status ${status} from the receiver` : '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  receiver.url = `http://127.0.0.1:${port}/hooks/fleetpipe`
  receiver.close = () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections()
      server.close((error) => (error ? reject(error) : resolve()))
    })
  return receiver
}
