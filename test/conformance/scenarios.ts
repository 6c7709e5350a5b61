/**
 * The conformance scenarios: what devices publish over MQTT, step by step (each step one delivery
 * from the transport), independent of any cloud. Every path must make the same of them.
 */
import { MAX_PAYLOAD_BYTES } from '@fleetpipe/core'
import { NOW } from '../../packages/core/test/_fixtures.ts'

/** One MQTT publish as a cloud's broker received it. */
export interface Publish {
  topic: string
  payload: string | Uint8Array
  /** The MQTT client id the broker authenticated: the device itself. */
  clientId: string
  receivedAt: number
}

export interface Scenario {
  name: string
  steps: Publish[][]
  /** The store refuses its first write with a transient error, as during a brief outage. */
  storeFailsOnce?: boolean
}

export { NOW }

const at = (s: number) => NOW - 600_000 + s * 1_000

export function publish(deviceId: string, body: unknown, channel = 'telemetry'): Publish {
  return {
    topic: `fleet/${deviceId}/${channel}`,
    payload: typeof body === 'string' ? body : JSON.stringify(body),
    clientId: deviceId,
    receivedAt: NOW,
  }
}

export const reading = (deviceId: string, seq: number, metrics: Record<string, number>, boot = 'b1') =>
  publish(deviceId, { v: 1, deviceId, ts: at(seq), seq, boot, metrics, fw: '1.4.2' })

const motor = (seq: number) => ({ temperature: 40 + (seq % 5), vibration: 0.2, current: 4.1 })

export const scenarios: Scenario[] = [
  {
    name: 'a normal fleet: births, readings, a batched message',
    steps: [
      [
        publish('c-1', { v: 1, deviceId: 'c-1', state: 'online', boot: 'b1', fw: '1.4.2' }, 'status'),
        publish('c-2', { v: 1, deviceId: 'c-2', state: 'online', boot: 'b1', fw: '1.4.2' }, 'status'),
        reading('c-1', 1, motor(1)),
        reading('c-2', 1, motor(1)),
        reading('c-1', 2, motor(2)),
      ],
      [
        publish('c-2', {
          v: 1,
          deviceId: 'c-2',
          boot: 'b1',
          readings: [
            { ts: at(2), seq: 2, metrics: motor(2) },
            { ts: at(3), seq: 3, metrics: motor(3) },
          ],
        }),
        reading('c-1', 3, motor(3)),
      ],
    ],
  },
  {
    name: 'duplicates: a QoS 1 redelivery within a step and across steps',
    steps: [
      [reading('c-3', 1, motor(1)), reading('c-3', 2, motor(2)), reading('c-3', 2, motor(2))],
      [reading('c-3', 1, motor(1)), reading('c-3', 3, motor(3))],
    ],
  },
  {
    name: 'out of order: later readings first, an earlier one after',
    steps: [
      [reading('c-4', 5, motor(5)), reading('c-4', 3, motor(3))],
      [reading('c-4', 4, motor(4)), reading('c-4', 6, motor(6)), reading('c-4', 5, motor(5))],
    ],
  },
  {
    name: 'every quarantine reason a device can cause',
    steps: [
      [
        publish('c-5', '{"v":1,"deviceId":'),
        publish('c-5', { v: 1, deviceId: 'c-5', ts: at(1), seq: 1, metrics: { temperature: 'hot' } }),
        publish('c-5', { v: 2, deviceId: 'c-5', ts: at(1), seq: 1, metrics: { temperature: 20 } }),
        publish('c-5', { v: 1, deviceId: 'c-5', ts: NOW + 3_600_000, seq: 2, metrics: { temperature: 20 } }),
        publish('c-5', {
          v: 1,
          deviceId: 'c-5',
          ts: at(3),
          seq: 3,
          metrics: { temperature: 20 },
          fw: 'x'.repeat(MAX_PAYLOAD_BYTES),
        }),
        publish('c-5', {
          v: 1,
          deviceId: 'c-5',
          boot: 'b1',
          readings: [
            { ts: at(4), seq: 4, metrics: { temperature: 21 } },
            { ts: at(5), seq: 5, metrics: {} },
          ],
        }),
      ],
    ],
  },
  {
    name: 'a spoofed device: c-6 publishes a reading that claims to be c-7',
    steps: [[publish('c-6', { v: 1, deviceId: 'c-7', ts: at(1), seq: 1, metrics: { temperature: 99 } })]],
  },
  {
    name: 'an anomaly episode: an alert opens with a safe-mode command, escalates nothing, and clears',
    steps: [
      [reading('c-8', 1, { temperature: 70 }), reading('c-8', 2, { temperature: 84 })],
      [reading('c-8', 3, { temperature: 88 }), reading('c-8', 4, { temperature: 79 })],
      [reading('c-8', 5, { temperature: 72 }), reading('c-8', 6, { temperature: 70 })],
    ],
  },
  {
    // Redeliveries arrive out of order, after newer readings; new readings keep their order, since a
    // transport that delivers one message per invocation (Pub/Sub push) would not regroup them.
    name: 'the same episode redelivered: repeats out of order, and a whole step again',
    steps: [
      [reading('c-10', 1, { temperature: 70 }), reading('c-10', 2, { temperature: 84 })],
      [
        reading('c-10', 2, { temperature: 84 }),
        reading('c-10', 3, { temperature: 88 }),
        reading('c-10', 1, { temperature: 70 }),
        reading('c-10', 4, { temperature: 79 }),
      ],
      [reading('c-10', 3, { temperature: 88 }), reading('c-10', 4, { temperature: 79 })],
      [
        reading('c-10', 5, { temperature: 72 }),
        reading('c-10', 2, { temperature: 84 }),
        reading('c-10', 6, { temperature: 70 }),
        reading('c-10', 5, { temperature: 72 }),
      ],
    ],
  },
  {
    name: 'a last will: the device drops off (alert), and its birth message clears it',
    steps: [
      [reading('c-11', 1, motor(1))],
      [publish('c-11', { v: 1, deviceId: 'c-11', state: 'offline', ts: at(10) }, 'status')],
      [publish('c-11', { v: 1, deviceId: 'c-11', state: 'offline', ts: at(10) }, 'status')],
      [
        publish(
          'c-11',
          { v: 1, deviceId: 'c-11', state: 'online', ts: at(20), boot: 'b2', fw: '1.4.2' },
          'status',
        ),
      ],
    ],
  },
  {
    name: 'a transient store failure: the transport delivers again, and each reading is stored once',
    storeFailsOnce: true,
    steps: [
      [reading('c-9', 1, motor(1)), reading('c-9', 2, { temperature: 90 }), reading('c-9', 3, motor(3))],
    ],
  },
]
