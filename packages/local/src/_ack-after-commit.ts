/**
 * Holding back MQTT PUBACKs until a batch is committed.
 *
 * mqtt.js acknowledges a QoS 1 message once its `handleMessage` hook calls back, and it reads the
 * next packet only after that. Holding the callback would therefore stall the stream and make every
 * batch one message long. Instead the hook calls back at once and the PUBACK packet itself is
 * parked here, to be written when the batch it belongs to is committed. Acks parked on a
 * connection that has since dropped are discarded: the broker redelivers those messages on the
 * persistent session, and a message id from an old connection may already name a new message.
 */
import type { MqttClient } from 'mqtt'

type Send = (packet: { cmd: string }, cb?: (error?: Error) => void, ...rest: unknown[]) => void

export interface AckGate {
  /** Takes the PUBACK parked since the last call (one per QoS 1 message handed over). */
  take(): Ack | undefined
}

export type Ack = () => void

export function gateAcks(client: MqttClient): AckGate {
  // `_sendPacket` is how every handler writes its reply; it is not public API, so the bridge's
  // integration tests (acks after commit, redelivery after a crash) guard this against upgrades.
  const target = client as unknown as { _sendPacket: Send }
  const send = target._sendPacket.bind(client)
  let parked: Ack | undefined
  let generation = 0
  client.on('close', () => {
    generation++
  })
  target._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd !== 'puback') return send(packet, cb, ...rest)
    const born = generation
    parked = () => {
      if (born === generation && client.connected) send(packet, undefined, ...rest)
    }
    // Let mqtt.js go on reading packets as if the ack were written.
    cb?.()
  }
  return {
    take() {
      const ack = parked
      parked = undefined
      return ack
    },
  }
}
