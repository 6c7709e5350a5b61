/**
 * The QoS 1 outbox as esp-mqtt keeps it: every QoS 1 publish waits here until its PUBACK, whether
 * it has been sent yet or not. It is bounded in bytes (`outbox_limit`: a publish that does not
 * fit is refused) and entries expire (`OUTBOX_EXPIRED_TIMEOUT_MS`, 30 s by default), sent or not.
 * After a reconnect the entries still held go out again in the order they were queued.
 * https://docs.espressif.com/projects/esp-idf/en/stable/esp32/api-reference/protocols/mqtt.html
 */

/** What the outbox holds: the encoded PUBLISH, ready to write again. */
export interface OutboxEntry<T = unknown> {
  packetId: number
  packet: Buffer
  queuedAt: number
  /** When it was last written to the socket; undefined while it waits for a connection. */
  sentAt: number | undefined
  /** Written more than once: the retransmission carries the DUP flag. */
  resent: boolean
  /** The caller's own data about the message, e.g. which reading it carries. */
  tag: T
}

export interface OutboxOptions {
  /** Bytes of encoded packets it holds at most. */
  limitBytes: number
  /** How long an entry may wait for its PUBACK. */
  expiryMs: number
}

/** esp-mqtt's defaults are 30 s and no limit; a device has ~200 KB of heap, so this bounds it at 32 KB. */
export const DEFAULT_OUTBOX: OutboxOptions = { limitBytes: 32 * 1024, expiryMs: 30_000 }

export class Outbox<T = unknown> {
  readonly limitBytes: number
  readonly expiryMs: number
  #entries: OutboxEntry<T>[] = []
  #bytes = 0

  constructor(options: OutboxOptions = DEFAULT_OUTBOX) {
    if (!(options.limitBytes > 0))
      throw new RangeError(`outbox limit must be above 0, got ${options.limitBytes}`)
    if (!(options.expiryMs > 0))
      throw new RangeError(`outbox expiry must be above 0, got ${options.expiryMs}`)
    this.limitBytes = options.limitBytes
    this.expiryMs = options.expiryMs
  }

  get size(): number {
    return this.#entries.length
  }

  get bytes(): number {
    return this.#bytes
  }

  /** Queues a packet; false (and nothing queued) when it would take the outbox past its limit. */
  add(packetId: number, packet: Buffer, now: number, tag: T): OutboxEntry<T> | undefined {
    if (this.#bytes + packet.length > this.limitBytes) return undefined
    const entry: OutboxEntry<T> = { packetId, packet, queuedAt: now, sentAt: undefined, resent: false, tag }
    this.#entries.push(entry)
    this.#bytes += packet.length
    return entry
  }

  /** Removes and returns the entry a PUBACK acknowledges; undefined for an id it does not hold. */
  ack(packetId: number): OutboxEntry<T> | undefined {
    // PUBACKs come back in order, so the entry is nearly always the oldest.
    const index = this.#entries.findIndex((entry) => entry.packetId === packetId)
    if (index < 0) return undefined
    const [entry] = this.#entries.splice(index, 1)
    if (entry) this.#bytes -= entry.packet.length
    return entry
  }

  /** Whether a packet id is still waiting for its PUBACK (so it cannot be reused yet). */
  holds(packetId: number): boolean {
    return this.#entries.some((entry) => entry.packetId === packetId)
  }

  /** Drops the entries queued more than `expiryMs` before `now`, oldest first, and returns them. */
  expire(now: number): OutboxEntry<T>[] {
    const first = this.#entries[0]
    if (!first || now - first.queuedAt < this.expiryMs) return []
    const expired: OutboxEntry<T>[] = []
    while (this.#entries.length > 0 && now - (this.#entries[0] as OutboxEntry<T>).queuedAt >= this.expiryMs) {
      const entry = this.#entries.shift() as OutboxEntry<T>
      this.#bytes -= entry.packet.length
      expired.push(entry)
    }
    return expired
  }

  /** The entries in the order they were queued, for a replay after reconnecting. */
  pending(): readonly OutboxEntry<T>[] {
    return this.#entries
  }

  /** Empties it, as a reboot does to RAM; returns what was lost. */
  clear(): OutboxEntry<T>[] {
    const lost = this.#entries
    this.#entries = []
    this.#bytes = 0
    return lost
  }
}
