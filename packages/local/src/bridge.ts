/**
 * The local bridge: subscribes to the fleet's inbound topics and feeds ingest in small batches.
 * A message is acknowledged to the broker only once its batch is committed, on a persistent
 * session, so a crash loses nothing: the broker redelivers and ingest dedupes. One batch is in
 * flight at a time; while it is, the next one fills up to its limit and then reading stops
 * (backpressure reaches the broker instead of growing a buffer here).
 */
import {
  backoffDelay,
  countRecords,
  emptyCounts,
  type InboundMessage,
  type IngestCounts,
  type IngestResult,
  type RecordResult,
  topics,
} from '@fleetpipe/core'
import mqtt, { type MqttClient } from 'mqtt'
import { type Ack, gateAcks } from './_ack-after-commit.ts'

export interface BridgeOptions {
  brokerUrl: string
  /** Fixed, so the broker keeps this bridge's session (and its unacknowledged messages) across restarts. */
  clientId: string
  batchSize: number
  /** How long a batch may wait to fill before it is ingested anyway. */
  flushMs: number
  /** Called after each committed batch, e.g. to print alerts. */
  onBatch?: (result: IngestResult) => void
  onError?: (error: Error) => void
}

export interface BridgeCounts extends IngestCounts {
  /** Messages taken from the broker (retained replays aside); `received` counts their records. */
  messages: number
  /** Of those, the ones acknowledged: every record stored, a duplicate or quarantined. */
  settled: number
  /** Retained messages replayed by the broker on subscribe: old state, already ingested when live. */
  retained: number
  batches: number
  /** Ingest attempts that had to be repeated for transient failures. */
  retries: number
}

interface Item {
  message: InboundMessage
  ack?: Ack
}

const RETRY = { attempts: Number.POSITIVE_INFINITY, baseMs: 50, maxMs: 5_000 }
const SHUTDOWN_ATTEMPTS = 5

export class Bridge {
  readonly counts: BridgeCounts = {
    ...emptyCounts(),
    messages: 0,
    settled: 0,
    retained: 0,
    batches: 0,
    retries: 0,
  }
  private batch: Item[] = []
  private timer: NodeJS.Timeout | undefined
  private inFlight: Promise<void> = Promise.resolve()
  private busy = false
  private resumeReading: (() => void) | undefined
  private stopping = false
  private lastActivity = Date.now()
  private lastSignOfLife = 0
  private ingest: ((messages: InboundMessage[]) => Promise<IngestResult>) | undefined

  private constructor(
    readonly client: MqttClient,
    private readonly options: BridgeOptions,
  ) {}

  static async connect(options: BridgeOptions): Promise<Bridge> {
    const client = mqtt.connect(options.brokerUrl, {
      clientId: options.clientId,
      clean: false,
      keepalive: 30,
      connectTimeout: 5_000,
      reconnectPeriod: 1_000,
      manualConnect: true,
    })
    const bridge = new Bridge(client, options)
    const acks = gateAcks(client)
    client.handleMessage = (packet, callback) => {
      bridge.accept(packet, acks.take.bind(acks), callback)
    }
    client.on('error', (error) => options.onError?.(error))
    watchForTakeover(client, options)
    client.connect()
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => {
        client.end(true)
        reject(new Error(`cannot reach the MQTT broker at ${options.brokerUrl}`))
      }, 5_000)
      client.once('connect', () => {
        clearTimeout(timeout)
        resolve()
      })
    })
    return bridge
  }

  /** Subscribes and starts feeding ingest; the connected client can already serve the ingest's adapters. */
  async listen(ingest: (messages: InboundMessage[]) => Promise<IngestResult>): Promise<void> {
    this.ingest = ingest
    await this.client.subscribeAsync([...topics.inbound], { qos: 1 })
  }

  /** Milliseconds since a message last arrived or a batch last finished. */
  idleFor(): number {
    return this.busy || this.batch.length > 0 ? 0 : Date.now() - this.lastActivity
  }

  private accept(
    packet: mqtt.IPublishPacket,
    takeAck: () => Ack | undefined,
    callback: (error?: Error) => void,
  ) {
    const now = Date.now()
    // mqtt.js counts only acks and PINGRESPs as signs of life. Behind a backlog the PINGRESP waits
    // in the socket after the messages before it, and the keepalive would drop a connection that
    // is busy delivering; a message arriving is sign enough.
    if (now - this.lastSignOfLife > 1_000) {
      this.client.reschedulePing(true)
      this.lastSignOfLife = now
    }
    this.lastActivity = now
    if (packet.retain) {
      this.counts.retained++
      callback()
      return
    }
    callback()
    this.counts.messages++
    // The PUBACK mqtt.js just tried to write is parked; it goes out with this message's batch.
    const ack = packet.qos > 0 ? takeAck() : undefined
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
    this.batch.push({
      message: { topic: packet.topic, payload, receivedAt: Date.now(), source: 'mqtt' },
      ack,
    })
    if (this.batch.length >= this.options.batchSize) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), this.options.flushMs)
  }

  private flush() {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.batch.length === 0) return
    if (this.busy) {
      // A full batch waits for the one in flight: stop reading until then.
      if (this.batch.length >= this.options.batchSize) this.pauseReading()
      return
    }
    const items = this.batch
    this.batch = []
    this.busy = true
    this.inFlight = this.commit(items).finally(() => {
      this.busy = false
      this.lastActivity = Date.now()
      this.resume()
      if (this.batch.length > 0) this.flush()
    })
  }

  private async commit(items: Item[]) {
    const result = await this.ingestWithRetry(items.map((i) => i.message))
    this.counts.batches++
    add(this.counts, result.counts)
    // A message with a record still failed stays unacknowledged: the broker will offer it again.
    const unsettled = new Set(result.records.filter((r) => r.outcome === 'failed').map((r) => r.message))
    items.forEach((item, i) => {
      if (unsettled.has(i)) return
      item.ack?.()
      this.counts.settled++
    })
    this.options.onBatch?.(result)
  }

  /** Retries only the messages that had a failed record; other records keep their first outcome. */
  private async ingestWithRetry(messages: InboundMessage[]): Promise<IngestResult> {
    const first = await this.safeIngest(messages)
    const byMessage = groupByMessage(first.records)
    const transitions = [...first.transitions]
    for (let attempt = 0; ; attempt++) {
      const failed = [...byMessage].filter(([, records]) => records.some((r) => r.outcome === 'failed'))
      if (failed.length === 0 || (this.stopping && attempt >= SHUTDOWN_ATTEMPTS)) break
      this.counts.retries++
      await sleep(backoffDelay(attempt, RETRY))
      const again = await this.safeIngest(failed.map(([index]) => messages[index] as InboundMessage))
      const fresh = groupByMessage(again.records)
      failed.forEach(([index, previous], j) => {
        const records = (fresh.get(j) ?? []).map((r, k) => {
          const before = previous[k]
          return before && before.outcome !== 'failed' ? before : { ...r, message: index }
        })
        byMessage.set(index, records)
      })
      transitions.push(...again.transitions)
    }
    const records = [...byMessage.values()].flat()
    return { records, transitions, counts: countRecords(records, transitions) }
  }

  private async safeIngest(messages: InboundMessage[]): Promise<IngestResult> {
    try {
      if (!this.ingest) throw new Error('the bridge got messages before listen()')
      return await this.ingest(messages)
    } catch (error) {
      // Ingest reports failures per record; a throw means something below it broke entirely.
      this.options.onError?.(error as Error)
      const records: RecordResult[] = messages.map((_, message) => ({
        message,
        kind: 'message',
        outcome: 'failed',
        detail: String(error),
      }))
      return { records, counts: countRecords(records, []), transitions: [] }
    }
  }

  private pauseReading() {
    if (this.resumeReading) return
    const stream = this.client.stream
    stream.pause()
    this.resumeReading = () => stream.resume()
  }

  private resume() {
    this.resumeReading?.()
    this.resumeReading = undefined
  }

  /** Ingests what has arrived, waits for it to commit, and disconnects. */
  async stop(): Promise<void> {
    this.stopping = true
    this.flush()
    while (this.busy || this.batch.length > 0) {
      await this.inFlight
      this.flush()
    }
    await this.client.endAsync()
  }
}

/**
 * A broker closes a session's connection when another client connects with the same id (MQTT
 * 3.1.1 §3.1.4): two bridges sharing an id take the session from each other, each reconnecting in
 * turn, and each ingests part of the stream. Said once, when connections keep closing soon after
 * they open.
 */
function watchForTakeover(client: MqttClient, options: BridgeOptions) {
  let openedAt = 0
  const quickCloses: number[] = []
  let said = false
  client.on('connect', () => {
    openedAt = Date.now()
  })
  client.on('close', () => {
    const now = Date.now()
    if (said || openedAt === 0 || now - openedAt > TAKEOVER_WINDOW_MS) return
    quickCloses.push(now)
    while ((quickCloses[0] as number) < now - TAKEOVER_WINDOW_MS) quickCloses.shift()
    if (quickCloses.length < TAKEOVER_CLOSES) return
    said = true
    options.onError?.(
      new Error(
        `the broker keeps closing the bridge's connection soon after accepting it: another client with id ` +
          `${options.clientId} (another fleetpipe dev?) may be taking the session over; give each bridge its own --bridge-id`,
      ),
    )
  })
}

const TAKEOVER_WINDOW_MS = 30_000
const TAKEOVER_CLOSES = 3

function groupByMessage(records: readonly RecordResult[]): Map<number, RecordResult[]> {
  const groups = new Map<number, RecordResult[]>()
  for (const record of records) {
    const group = groups.get(record.message)
    if (group) group.push(record)
    else groups.set(record.message, [record])
  }
  return groups
}

function add(total: IngestCounts, counts: IngestCounts) {
  for (const key of Object.keys(counts) as (keyof IngestCounts)[]) total[key] += counts[key]
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
