/**
 * One device's MQTT session as esp-mqtt runs it: QoS 1 through a bounded, expiring outbox that is
 * replayed in order after a reconnect, a last will, keepalive pings, and reconnects with
 * exponential backoff and jitter. It owns no timer: whoever drives the fleet calls `service(now)`,
 * so 10,000 sessions cost one timer, not 10,000.
 */
import net from 'node:net'
import tls from 'node:tls'
import {
  CONNACK_REASONS,
  DISCONNECT,
  encodeConnect,
  encodePuback,
  encodePublish,
  encodeSubscribe,
  type Inbound,
  markDuplicate,
  PacketReader,
  PacketType,
  PINGREQ,
} from './_mqtt-codec.ts'
import { DEFAULT_OUTBOX, Outbox, type OutboxEntry, type OutboxOptions } from './outbox.ts'
import type { DeviceEndpoint } from './profiles.ts'
import type { Random } from './random.ts'

export type SessionState = 'waiting' | 'connecting' | 'online' | 'asleep' | 'closed'

/** What a message in the outbox is, so its acknowledgement can be counted where it belongs. */
export interface MessageTag {
  kind: 'telemetry' | 'status' | 'ack'
  /** Readings it carries (a batch carries several). */
  readings: number
}

export interface BackoffOptions {
  minMs: number
  maxMs: number
}

/** The AWS ESP32 samples' reconnect policy: 500 ms doubling up to 5 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 500, maxMs: 5_000 }

/**
 * The wait before reconnect attempt `attempt` (0 first): exponential, capped, with "equal jitter"
 * (half fixed, half random), so a fleet cut off at once does not come back in one instant.
 */
export function reconnectDelay(attempt: number, random: Random, backoff = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.min(attempt, 30))
  return ceiling / 2 + random.next() * (ceiling / 2)
}

export interface SessionEvents {
  /** CONNACK accepted; subscription and birth are on their way. */
  online(session: DeviceSession): void
  /** The subscription was granted and the birth acknowledged: the device is fully up. */
  ready?(session: DeviceSession): void
  message(topic: string, payload: Buffer): void
  acked(entry: OutboxEntry<MessageTag>, latencyMs: number): void
  expired(entry: OutboxEntry<MessageTag>): void
  /** A connection attempt failed or an established connection dropped. */
  down(error: Error, wasOnline: boolean): void
}

export interface SessionOptions {
  endpoint: DeviceEndpoint
  random: Random
  events: SessionEvents
  /** The device's status payload, asked at every connect so birth and will carry the current boot. */
  status(state: 'online' | 'offline', ts?: number): string
  keepaliveS?: number
  connectTimeoutMs?: number
  outbox?: OutboxOptions
  backoff?: BackoffOptions
  now?: () => number
}

const DEFAULT_KEEPALIVE_S = 60
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000

export class DeviceSession {
  readonly clientId: string
  readonly outbox: Outbox<MessageTag>
  readonly endpoint: DeviceEndpoint
  #options: SessionOptions
  #events: SessionEvents
  #state: SessionState = 'waiting'
  #socket: net.Socket | undefined
  #reader = new PacketReader()
  #telemetryTopic: Buffer
  #statusTopic: Buffer
  #nextId = 1
  #subscribeId = 0
  #birthId = 0
  #subscribed = false
  #attempt = 0
  #retryAt = 0
  #startedAt = 0
  #lastWrite = 0
  #pingSentAt = 0
  #error: Error | undefined
  #closing: (() => void) | undefined
  /** Connected at least once: a later drop is a disconnect, not a failure to connect. */
  everOnline = false

  constructor(options: SessionOptions) {
    this.#options = options
    this.#events = options.events
    this.endpoint = options.endpoint
    this.clientId = String(options.endpoint.options.clientId)
    this.outbox = new Outbox(options.outbox ?? DEFAULT_OUTBOX)
    this.#telemetryTopic = Buffer.from(options.endpoint.telemetryTopic)
    this.#statusTopic = Buffer.from(options.endpoint.statusTopic)
  }

  get state(): SessionState {
    return this.#state
  }

  get online(): boolean {
    return this.#state === 'online'
  }

  /** Online, subscribed, and nothing left to acknowledge: a duty-cycled device may sleep now. */
  get idle(): boolean {
    return this.#state === 'online' && this.#subscribed && this.outbox.size === 0
  }

  /** The error that ended the last connection or attempt. */
  get lastError(): Error | undefined {
    return this.#error
  }

  /** Whether a reconnect is due: the driver then calls `connect` when its connect budget allows. */
  wantsConnect(now: number): boolean {
    return this.#state === 'waiting' && now >= this.#retryAt
  }

  connect(now = this.#now()): void {
    if (this.#state !== 'waiting' && this.#state !== 'asleep') return
    this.#state = 'connecting'
    this.#startedAt = now
    this.#subscribed = false
    this.#reader.reset()
    const { endpoint } = this
    const url = new URL(endpoint.url)
    const secure = url.protocol === 'mqtts:' || url.protocol === 'ssl:'
    const port = Number(url.port) || (secure ? 8883 : 1883)
    const host = url.hostname.replace(/^\[|\]$/g, '')
    const o = endpoint.options
    const socket = secure
      ? tls.connect({
          host,
          port,
          servername: net.isIP(host) ? undefined : host,
          ...(o.cert ? { cert: o.cert as Buffer } : {}),
          ...(o.key ? { key: o.key as Buffer } : {}),
          ...(o.ca ? { ca: o.ca as Buffer } : {}),
          ...(o.ALPNProtocols ? { ALPNProtocols: o.ALPNProtocols as string[] } : {}),
          rejectUnauthorized: o.rejectUnauthorized !== false,
        })
      : net.connect({ host, port })
    // Nagle's algorithm holds small publishes back ~40 ms waiting for more to coalesce.
    socket.setNoDelay(true)
    this.#socket = socket
    const password = endpoint.renew ? endpoint.renew().password : o.password
    socket.write(
      encodeConnect({
        clientId: this.clientId,
        keepaliveS: this.#options.keepaliveS ?? DEFAULT_KEEPALIVE_S,
        // esp-mqtt's default; the outbox, not the broker, keeps what is not yet acknowledged.
        clean: true,
        ...(o.username ? { username: o.username } : {}),
        ...(password ? { password: String(password) } : {}),
        // Fixed at connect time, so it carries no timestamp.
        will: {
          topic: endpoint.statusTopic,
          payload: Buffer.from(this.#options.status('offline')),
          qos: 1,
          retain: endpoint.retainStatus,
        },
      }),
    )
    this.#lastWrite = now
    socket.on('data', (chunk: Buffer) => {
      if (this.#socket !== socket) return
      try {
        this.#reader.push(chunk, (packet) => this.#receive(packet))
      } catch (error) {
        this.#fail(socket, error as Error)
      }
    })
    socket.on('error', (error) => {
      this.#error = error
    })
    socket.on('close', () => this.#closed(socket))
  }

  /**
   * Queues a QoS 1 publish and sends it at once when online; undefined when the outbox is full
   * (the message is refused, as `esp_mqtt_client_enqueue` refuses it).
   */
  publish(
    payload: string | Buffer,
    tag: MessageTag,
    options: { topic?: 'telemetry' | 'status' | Buffer; retain?: boolean } = {},
  ): OutboxEntry<MessageTag> | undefined {
    const topic =
      options.topic === 'status'
        ? this.#statusTopic
        : options.topic === undefined || options.topic === 'telemetry'
          ? this.#telemetryTopic
          : options.topic
    const packetId = this.#packetId()
    const packet = encodePublish(topic, payload, { qos: 1, packetId, retain: options.retain ?? false })
    const now = this.#now()
    const entry = this.outbox.add(packetId, packet, now, tag)
    if (entry && this.#state === 'online') this.#send(entry, now)
    return entry
  }

  /** Housekeeping the driver calls a few times a second: timeouts, pings, expiry. */
  service(now: number): void {
    for (const entry of this.outbox.expire(now)) this.#events.expired(entry)
    const socket = this.#socket
    if (!socket) return
    const keepaliveMs = (this.#options.keepaliveS ?? DEFAULT_KEEPALIVE_S) * 1_000
    if (this.#state === 'connecting') {
      const timeout = this.#options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
      if (now - this.#startedAt > timeout) this.#fail(socket, new Error(`no CONNACK within ${timeout} ms`))
    } else if (this.#state === 'online') {
      if (this.#pingSentAt > 0 && now - this.#pingSentAt > keepaliveMs) {
        this.#fail(socket, new Error('no PINGRESP within the keepalive'))
      } else if (this.#pingSentAt === 0 && now - this.#lastWrite >= keepaliveMs) {
        this.#pingSentAt = now
        this.#write(PINGREQ, now)
      }
    }
  }

  /**
   * Drops the connection without DISCONNECT, as deep sleep or a power loss does: the broker
   * publishes the will. `asleep` keeps the outbox (RTC memory) for the next wake.
   */
  drop(state: 'asleep' | 'closed' = 'asleep'): void {
    const socket = this.#socket
    this.#socket = undefined
    this.#state = state
    this.#forgetSent()
    socket?.destroy()
  }

  /** Drops the connection and retries after the backoff, as after a network glitch. */
  restart(now = this.#now()): void {
    const socket = this.#socket
    if (socket) this.#fail(socket, new Error('restarted'))
    else if (this.#state === 'asleep') {
      this.#state = 'waiting'
      this.#retryAt = now
    }
  }

  /** Says `offline` (so the will is not needed), waits for its PUBACK, then disconnects cleanly. */
  async close(timeoutMs: number): Promise<void> {
    const socket = this.#socket
    if (this.#state !== 'online' || !socket) {
      this.drop('closed')
      return
    }
    const done = new Promise<void>((resolve) => {
      this.#closing = resolve
    })
    const goodbye = this.publish(
      this.#options.status('offline', Date.now()),
      { kind: 'status', readings: 0 },
      {
        topic: 'status',
        retain: this.endpoint.retainStatus,
      },
    )
    if (!goodbye) this.#closing?.()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
    clearTimeout(timer)
    this.#closing = undefined
    this.#state = 'closed'
    this.#socket = undefined
    if (!socket.destroyed) {
      socket.end(DISCONNECT)
      socket.destroySoon()
    }
  }

  #receive(packet: Inbound): void {
    const socket = this.#socket
    if (!socket) return
    const now = this.#now()
    switch (packet.type) {
      case PacketType.Connack: {
        if (packet.returnCode !== 0) {
          const reason = CONNACK_REASONS[packet.returnCode] ?? `return code ${packet.returnCode}`
          this.#fail(socket, new Error(`broker refused the connection: ${reason}`))
          return
        }
        this.#state = 'online'
        this.#attempt = 0
        this.#pingSentAt = 0
        // A clean session forgets subscriptions: subscribe again, say online, then replay in order.
        this.#subscribeId = this.#packetId()
        this.#write(encodeSubscribe(this.#subscribeId, this.endpoint.commandFilter, 1), now)
        const birth = this.publish(
          this.#options.status('online', Date.now()),
          { kind: 'status', readings: 0 },
          { topic: 'status', retain: this.endpoint.retainStatus },
        )
        this.#birthId = birth?.packetId ?? 0
        this.#events.online(this)
        this.everOnline = true
        for (const entry of this.outbox.pending()) {
          if (entry.sentAt === undefined && this.#state === 'online') this.#send(entry, now)
        }
        return
      }
      case PacketType.Puback: {
        const entry = this.outbox.ack(packet.packetId)
        if (!entry) return
        this.#events.acked(entry, entry.sentAt === undefined ? 0 : now - entry.sentAt)
        if (packet.packetId === this.#birthId) {
          this.#birthId = 0
          if (this.#subscribed) this.#events.ready?.(this)
        }
        if (this.#closing && this.outbox.size === 0) this.#closing()
        return
      }
      case PacketType.Suback:
        if (packet.packetId !== this.#subscribeId) return
        if (packet.granted.some((code) => code === 0x80)) {
          this.#fail(socket, new Error(`broker refused the subscription to ${this.endpoint.commandFilter}`))
          return
        }
        this.#subscribed = true
        if (this.#birthId === 0) this.#events.ready?.(this)
        return
      case PacketType.Pingresp:
        this.#pingSentAt = 0
        return
      case PacketType.Publish:
        // esp-mqtt acknowledges a QoS 1 message as it hands it to the application.
        if (packet.qos > 0) this.#write(encodePuback(packet.packetId), now)
        this.#events.message(packet.topic, packet.payload)
        return
    }
  }

  #send(entry: OutboxEntry<MessageTag>, now: number): void {
    if (entry.resent) {
      // Once written it may have reached the broker: the replay says it could be a duplicate.
      markDuplicate(entry.packet)
      entry.resent = true
    }
    entry.sentAt = now
    this.#write(entry.packet, now)
  }

  #write(packet: Buffer, now: number): void {
    this.#lastWrite = now
    this.#socket?.write(packet)
  }

  #fail(socket: net.Socket, error: Error): void {
    this.#error = error
    socket.destroy()
    this.#closed(socket)
  }

  #closed(socket: net.Socket): void {
    if (this.#socket !== socket) return
    this.#socket = undefined
    const wasOnline = this.#state === 'online'
    this.#forgetSent()
    if (this.#state === 'closed' || this.#state === 'asleep') return
    this.#state = 'waiting'
    this.#retryAt = this.#now() + reconnectDelay(this.#attempt++, this.#options.random, this.#options.backoff)
    const error = this.#error ?? new Error('connection closed by the broker')
    this.#error = undefined
    this.#events.down(error, wasOnline)
  }

  /** What was written may or may not have arrived: everything held goes again after reconnecting. */
  #forgetSent(): void {
    for (const entry of this.outbox.pending()) {
      if (entry.sentAt !== undefined) entry.resent = true
      entry.sentAt = undefined
    }
  }

  #packetId(): number {
    for (let tries = 0; tries < 65_535; tries++) {
      const id = this.#nextId
      this.#nextId = id === 65_535 ? 1 : id + 1
      if (!this.outbox.holds(id)) return id
    }
    throw new Error('no free packet id')
  }

  #now(): number {
    return (this.#options.now ?? Date.now)()
  }
}
