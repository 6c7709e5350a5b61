/**
 * aedes' memory persistence with two lookups indexed that the stock one does by scanning, each of
 * which turns a fleet-sized load quadratic:
 *
 * - Retained messages on SUBSCRIBE. Each device retains its status and subscribes to its own
 *   command topic, and the stock store matches every filter against every retained topic:
 *   10,000 devices took 48 s to connect. A filter without wildcards names one topic, so here it is
 *   a lookup; filters with wildcards (the bridge's `fleet/+/status`) go the stock way.
 * - The outgoing queue of a persistent session (the bridge's). Each QoS 1 delivery and each PUBACK
 *   searched the session's unacknowledged messages from the oldest, so a bridge a few seconds
 *   behind a fleet cost the broker its whole CPU. Here they are found by key.
 */
import { Readable } from 'node:stream'
import MemoryPersistence, { Packet } from 'aedes-persistence/asyncPersistence.js'

interface RetainedPacket {
  topic: string
  payload: Buffer | string
}

/** What aedes hands the outgoing queue: a packet copied for one subscriber. */
interface QueuedPacket {
  brokerId: string
  brokerCounter: number
  messageId?: number
}

export class FleetPersistence extends MemoryPersistence {
  private readonly retained = new Map<string, RetainedPacket>()
  private readonly outgoing = new Map<string, OutgoingQueue>()

  override async storeRetained(packet: RetainedPacket): Promise<void> {
    await super.storeRetained(packet)
    if (packet.payload.length === 0) this.retained.delete(packet.topic)
    else this.retained.set(packet.topic, { ...packet })
  }

  override createRetainedStreamCombi(patterns: string[]): Readable {
    if (patterns.some(hasWildcard)) return super.createRetainedStreamCombi(patterns)
    return Readable.from(this.retainedOn(patterns))
  }

  override createRetainedStream(pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern])
  }

  override async outgoingEnqueue(sub: { clientId: string }, packet: QueuedPacket): Promise<void> {
    this.queueOf(sub.clientId).add(new Packet(packet))
  }

  override async outgoingEnqueueCombi(subs: { clientId: string }[], packet: QueuedPacket): Promise<void> {
    for (const sub of subs) this.queueOf(sub.clientId).add(new Packet(packet))
  }

  /** The packet has been given a packet identifier for its (re)delivery. */
  override async outgoingUpdate(client: { id: string }, packet: QueuedPacket): Promise<void> {
    this.queueOf(client.id).update(packet)
  }

  /** A PUBACK: the packet with that identifier is done with. */
  override async outgoingClearMessageId(
    client: { id: string },
    packet: { messageId: number },
  ): Promise<QueuedPacket | undefined> {
    const queue = this.outgoing.get(client.id)
    const done = queue?.clear(packet.messageId)
    if (queue?.size === 0) this.outgoing.delete(client.id)
    return done
  }

  /** What a reconnecting session gets again, oldest first. */
  override outgoingStream(client: { id: string }): Readable {
    return Readable.from(this.outgoing.get(client.id)?.inOrder() ?? [])
  }

  private queueOf(clientId: string): OutgoingQueue {
    let queue = this.outgoing.get(clientId)
    if (!queue) {
      queue = new OutgoingQueue()
      this.outgoing.set(clientId, queue)
    }
    return queue
  }

  private *retainedOn(topics: string[]) {
    for (const topic of new Set(topics)) {
      const packet = this.retained.get(topic)
      if (packet) yield packet
    }
  }
}

/** One session's unacknowledged messages in the order they were queued, by delivery and by identifier. */
class OutgoingQueue {
  private readonly byDelivery = new Map<string, QueuedPacket>()
  private readonly byMessageId = new Map<number, string>()

  get size() {
    return this.byDelivery.size
  }

  add(packet: QueuedPacket) {
    this.byDelivery.set(deliveryKey(packet), packet)
  }

  update(packet: QueuedPacket) {
    const key = deliveryKey(packet)
    const queued = this.byDelivery.get(key)
    if (queued) {
      if (queued.messageId !== undefined && this.byMessageId.get(queued.messageId) === key) {
        this.byMessageId.delete(queued.messageId)
      }
      queued.messageId = packet.messageId
    } else {
      // As the stock store does: another broker's packet holding this identifier gives way to it.
      const other = packet.messageId === undefined ? undefined : this.byMessageId.get(packet.messageId)
      if (other === undefined) throw new Error('no such packet')
      this.byDelivery.delete(other)
      this.byDelivery.set(key, packet)
    }
    if (packet.messageId !== undefined) this.byMessageId.set(packet.messageId, key)
  }

  clear(messageId: number): QueuedPacket | undefined {
    const key = this.byMessageId.get(messageId)
    if (key === undefined) return undefined
    this.byMessageId.delete(messageId)
    const packet = this.byDelivery.get(key)
    this.byDelivery.delete(key)
    return packet
  }

  inOrder(): QueuedPacket[] {
    return [...this.byDelivery.values()]
  }
}

const deliveryKey = (packet: QueuedPacket) => `${packet.brokerId}\u0000${packet.brokerCounter}`
const hasWildcard = (filter: string) => filter.includes('+') || filter.includes('#')
