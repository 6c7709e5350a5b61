/**
 * The MQTT 3.1.1 packets an ESP32 client exchanges, encoded and decoded by hand: a device needs
 * nine packet types, and a fleet of 10,000 cannot afford a general client per device.
 * https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html
 */

export const PacketType = {
  Connect: 1,
  Connack: 2,
  Publish: 3,
  Puback: 4,
  Subscribe: 8,
  Suback: 9,
  Pingreq: 12,
  Pingresp: 13,
  Disconnect: 14,
} as const

export interface ConnectPacket {
  clientId: string
  keepaliveS: number
  clean: boolean
  username?: string
  password?: string
  will?: { topic: string; payload: Buffer; qos: 0 | 1; retain: boolean }
}

/** What a device receives from its broker. */
export type Inbound =
  | { type: typeof PacketType.Connack; sessionPresent: boolean; returnCode: number }
  | { type: typeof PacketType.Puback; packetId: number }
  | { type: typeof PacketType.Suback; packetId: number; granted: number[] }
  | { type: typeof PacketType.Pingresp }
  | { type: typeof PacketType.Publish; topic: string; payload: Buffer; qos: number; packetId: number }
  | { type: 0; header: number }

/** CONNACK return codes, as brokers explain a refusal. */
export const CONNACK_REASONS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
}

const PROTOCOL = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4])
export const PINGREQ = Buffer.from([PacketType.Pingreq << 4, 0])
export const DISCONNECT = Buffer.from([PacketType.Disconnect << 4, 0])

export function encodeConnect(packet: ConnectPacket): Buffer {
  const clientId = Buffer.from(packet.clientId)
  const will = packet.will
  const willTopic = will ? Buffer.from(will.topic) : undefined
  const username = packet.username === undefined ? undefined : Buffer.from(packet.username)
  const password = packet.password === undefined ? undefined : Buffer.from(packet.password)
  let flags = packet.clean ? 0x02 : 0
  if (will) flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0)
  if (username) flags |= 0x80
  if (password) flags |= 0x40
  let length = PROTOCOL.length + 3 + 2 + clientId.length
  if (will && willTopic) length += 4 + willTopic.length + will.payload.length
  if (username) length += 2 + username.length
  if (password) length += 2 + password.length
  const out = header(PacketType.Connect << 4, length)
  let at = out.offset
  at += PROTOCOL.copy(out.buffer, at)
  out.buffer[at++] = flags
  at = out.buffer.writeUInt16BE(packet.keepaliveS, at)
  at = string(out.buffer, at, clientId)
  if (will && willTopic) {
    at = string(out.buffer, at, willTopic)
    at = string(out.buffer, at, will.payload)
  }
  if (username) at = string(out.buffer, at, username)
  if (password) string(out.buffer, at, password)
  return out.buffer
}

/** A PUBLISH; QoS 1 needs a packet id, and a retransmission sets `dup`. A string payload is written as UTF-8. */
export function encodePublish(
  topic: Buffer,
  payload: Buffer | string,
  options: { qos: 0 | 1; packetId?: number; retain?: boolean; dup?: boolean },
): Buffer {
  const first =
    (PacketType.Publish << 4) | (options.dup ? 0x08 : 0) | (options.qos << 1) | (options.retain ? 1 : 0)
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
  const out = header(first, 2 + topic.length + (options.qos ? 2 : 0) + size)
  let at = string(out.buffer, out.offset, topic)
  if (options.qos) at = out.buffer.writeUInt16BE(options.packetId ?? 0, at)
  // Straight into the packet: no intermediate Buffer per message.
  if (typeof payload === 'string') out.buffer.write(payload, at)
  else payload.copy(out.buffer, at)
  return out.buffer
}

/** Sets the DUP flag of an encoded PUBLISH in place, for its retransmission after a reconnect. */
export function markDuplicate(publish: Buffer): void {
  publish[0] = (publish[0] ?? 0) | 0x08
}

export function encodePuback(packetId: number): Buffer {
  return Buffer.from([PacketType.Puback << 4, 2, packetId >> 8, packetId & 0xff])
}

export function encodeSubscribe(packetId: number, filter: string, qos: 0 | 1): Buffer {
  const topic = Buffer.from(filter)
  const out = header((PacketType.Subscribe << 4) | 0x02, 2 + 2 + topic.length + 1)
  let at = out.buffer.writeUInt16BE(packetId, out.offset)
  at = string(out.buffer, at, topic)
  out.buffer[at] = qos
  return out.buffer
}

/**
 * Splits a byte stream into packets. Partial packets wait for the next chunk; everything else is
 * decoded straight out of the chunk it arrived in.
 */
export class PacketReader {
  #pending: Buffer | undefined

  /** Calls `onPacket` for every complete packet; throws on bytes that are not MQTT. */
  push(chunk: Buffer, onPacket: (packet: Inbound) => void): void {
    const data = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk
    this.#pending = undefined
    let at = 0
    while (at < data.length) {
      const start = at
      const first = data[at++] as number
      let length = 0
      let multiplier = 1
      let complete = false
      for (let i = 0; i < 4 && at < data.length; i++) {
        const byte = data[at++] as number
        length += (byte & 0x7f) * multiplier
        multiplier *= 128
        if ((byte & 0x80) === 0) {
          complete = true
          break
        }
        if (i === 3) throw new Error('malformed remaining length')
      }
      if (!complete || at + length > data.length) {
        this.#pending = Buffer.from(data.subarray(start))
        return
      }
      onPacket(decode(first, data, at, length))
      at += length
    }
  }

  reset(): void {
    this.#pending = undefined
  }
}

function decode(first: number, data: Buffer, at: number, length: number): Inbound {
  switch (first >> 4) {
    case PacketType.Connack:
      return {
        type: PacketType.Connack,
        sessionPresent: ((data[at] as number) & 1) === 1,
        returnCode: data[at + 1] as number,
      }
    case PacketType.Puback:
      return { type: PacketType.Puback, packetId: data.readUInt16BE(at) }
    case PacketType.Suback: {
      const granted: number[] = []
      for (let i = at + 2; i < at + length; i++) granted.push(data[i] as number)
      return { type: PacketType.Suback, packetId: data.readUInt16BE(at), granted }
    }
    case PacketType.Pingresp:
      return { type: PacketType.Pingresp }
    case PacketType.Publish: {
      const qos = (first >> 1) & 3
      const topicLength = data.readUInt16BE(at)
      const topic = data.toString('utf8', at + 2, at + 2 + topicLength)
      let body = at + 2 + topicLength
      let packetId = 0
      if (qos > 0) {
        packetId = data.readUInt16BE(body)
        body += 2
      }
      // Copied: the chunk it came in is reused by the socket.
      const payload = Buffer.from(data.subarray(body, at + length))
      return { type: PacketType.Publish, topic, payload, qos, packetId }
    }
    default:
      return { type: 0, header: first }
  }
}

function header(first: number, length: number): { buffer: Buffer; offset: number } {
  let bytes = 1
  for (let n = length; n >= 128; n = Math.floor(n / 128)) bytes++
  const buffer = Buffer.allocUnsafe(1 + bytes + length)
  buffer[0] = first
  let at = 1
  let n = length
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    buffer[at++] = byte
  } while (n > 0)
  return { buffer, offset: at }
}

function string(buffer: Buffer, at: number, bytes: Buffer): number {
  const next = buffer.writeUInt16BE(bytes.length, at)
  return next + bytes.copy(buffer, next)
}
