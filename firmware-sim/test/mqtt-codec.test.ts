import { describe, expect, it } from 'vitest'
import {
  encodeConnect,
  encodePuback,
  encodePublish,
  encodeSubscribe,
  type Inbound,
  markDuplicate,
  PacketReader,
  PacketType,
} from '../src/_mqtt-codec.ts'

const hex = (buffer: Buffer) => buffer.toString('hex')

describe('MQTT 3.1.1 encoding', () => {
  it('encodes CONNECT with will, credentials and keepalive as the spec lays it out', () => {
    const packet = encodeConnect({
      clientId: 'd1',
      keepaliveS: 60,
      clean: true,
      username: 'u',
      password: 'p',
      will: { topic: 't', payload: Buffer.from('x'), qos: 1, retain: true },
    })
    // 0x10, remaining 26; "MQTT" level 4; flags user|pass|will-retain|will-qos1|will|clean = 0xee; keepalive 60.
    expect(hex(packet)).toBe(
      `101a${'00044d515454'}04ee003c${'00026431'}${'000174'}${'000178'}${'000175'}${'000170'}`,
    )
  })

  it('encodes QoS 1 PUBLISH with its packet id, sets DUP for a retransmission, and PUBACK, SUBSCRIBE', () => {
    const publish = encodePublish(Buffer.from('a/b'), '{}', { qos: 1, packetId: 258, retain: true })
    expect(hex(publish)).toBe('33090003612f6201027b7d')
    markDuplicate(publish)
    expect(publish[0]).toBe(0x3b)
    expect(hex(encodePuback(258))).toBe('40020102')
    expect(hex(encodeSubscribe(7, 'c', 1))).toBe('82060007000163' + '01')
  })

  it('encodes remaining lengths past one byte (128 → 0x80 0x01)', () => {
    const packet = encodePublish(Buffer.from('t'), Buffer.alloc(200), { qos: 0 })
    // 2 + 1 + 200 = 203 = 0xcb 0x01
    expect(hex(packet.subarray(0, 3))).toBe('30cb01')
    expect(packet.length).toBe(1 + 2 + 203)
  })
})

describe('PacketReader', () => {
  it('splits a stream into packets however the chunks fall, and decodes what a device receives', () => {
    const connack = Buffer.from([0x20, 2, 0, 0])
    const puback = encodePuback(9)
    const suback = Buffer.from([0x90, 3, 0, 1, 1])
    const command = encodePublish(Buffer.from('fleet/d1/commands'), Buffer.alloc(300, 0x41), {
      qos: 1,
      packetId: 5,
    })
    const pingresp = Buffer.from([0xd0, 0])
    const stream = Buffer.concat([connack, puback, suback, command, pingresp])
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const reader = new PacketReader()
      const packets: Inbound[] = []
      for (let at = 0; at < stream.length; at += size) {
        reader.push(stream.subarray(at, at + size), (p) => packets.push(p))
      }
      expect(packets.map((p) => p.type)).toEqual([
        PacketType.Connack,
        PacketType.Puback,
        PacketType.Suback,
        PacketType.Publish,
        PacketType.Pingresp,
      ])
      expect(packets[0]).toEqual({ type: PacketType.Connack, sessionPresent: false, returnCode: 0 })
      expect(packets[1]).toEqual({ type: PacketType.Puback, packetId: 9 })
      expect(packets[2]).toEqual({ type: PacketType.Suback, packetId: 1, granted: [1] })
      const publish = packets[3] as Extract<Inbound, { type: typeof PacketType.Publish }>
      expect(publish).toMatchObject({ topic: 'fleet/d1/commands', qos: 1, packetId: 5 })
      expect(publish.payload.equals(Buffer.alloc(300, 0x41))).toBe(true)
    }
  })

  it('refuses a remaining length longer than four bytes', () => {
    const reader = new PacketReader()
    expect(() => reader.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), () => {})).toThrow(
      /remaining length/,
    )
  })
})
