import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { eventHubBatchOf, type Publish } from '../src/emulate.ts'
import { loadBatch } from './_events.ts'
import { NOW, setup } from './_setup.ts'

const online = '{"v":1,"deviceId":"esp32-0001","state":"online"}'

describe('eventHubBatchOf', () => {
  it('gives each publish the body and the metadata the host hands the function', () => {
    const batch = eventHubBatchOf(
      [{ topic: 'fleet/esp32-0001/status', payload: online, clientId: 'esp32-0001', receivedAt: NOW }],
      7,
    )

    const enqueued = new Date(NOW + 45).toISOString()
    expect(batch).toEqual({
      messages: [{ v: 1, deviceId: 'esp32-0001', state: 'online' }],
      triggerMetadata: {
        partitionContext: {
          fullyQualifiedNamespace: 'ihsuprodfleetpipe.servicebus.windows.net',
          eventHubName: 'fleetpipe-iothub',
          consumerGroup: 'fleetpipe',
          partitionId: '0',
        },
        partitionKeyArray: [null],
        offsetArray: ['7168'],
        sequenceNumberArray: [7],
        enqueuedTimeUtcArray: [enqueued],
        propertiesArray: [{ channel: 'status' }],
        systemPropertiesArray: [
          {
            'iothub-connection-device-id': 'esp32-0001',
            'iothub-connection-auth-method':
              '{"scope":"device","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}',
            'iothub-connection-auth-generation-id': '638678512345678901',
            'iothub-enqueuedtime': new Date(NOW).toISOString(),
            'iothub-message-source': 'Telemetry',
            'x-opt-sequence-number': 7,
            'x-opt-offset': '7168',
            'x-opt-enqueued-time': enqueued,
            sequenceNumber: 7,
            offset: '7168',
            partitionKey: null,
            enqueuedTimeUtc: enqueued,
          },
        ],
      },
    })
  })

  it('delivers JSON parsed, other text as a string, and bytes that are not UTF-8 replaced, as the host does', () => {
    const { messages } = eventHubBatchOf(
      [Buffer.from(online), '{"v":1,"deviceId":', Uint8Array.of(0x7b, 0xff, 0x7d), '12.0'].map((payload) => ({
        topic: 'fleet/esp32-0001/telemetry',
        payload,
        receivedAt: NOW,
      })),
    )
    expect(messages).toEqual([JSON.parse(online), '{"v":1,"deviceId":', '{\uFFFD}', 12])
  })

  it('counts sequence numbers up from the start, and leaves out what IoT Hub would not take', () => {
    const publishes: Publish[] = [
      'fleet/esp32-0001/telemetry',
      'fleet/esp32-0001/commands',
      'devices/esp32-0001/messages/events/',
      'fleet/esp32-0002/status',
    ].map((topic) => ({ topic, payload: online, receivedAt: NOW }))

    const { messages, triggerMetadata } = eventHubBatchOf(publishes, 100)

    expect(messages).toHaveLength(2)
    expect(triggerMetadata.sequenceNumberArray).toEqual([100, 101])
    expect(triggerMetadata.propertiesArray).toEqual([{ channel: 'telemetry' }, { channel: 'status' }])
    // Without a client id, the device is the one the topic names.
    expect(
      (triggerMetadata.systemPropertiesArray as Record<string, unknown>[]).map(
        (p) => p['iothub-connection-device-id'],
      ),
    ).toEqual(['esp32-0001', 'esp32-0002'])
  })

  it("made the fixtures from the AWS fixtures' publishes", () => {
    const aws = JSON.parse(
      readFileSync(
        new URL('../../../test/events/aws/iot-rule/batched-readings.json', import.meta.url),
        'utf8',
      ),
    )
    const publish = { ...aws, payload: Buffer.from(aws.payload, 'base64') }
    expect(eventHubBatchOf([publish], 48216)).toEqual(loadBatch('event-hub/batched-readings.json'))
  })

  it('feeds the handler: what a device published is what gets stored', async () => {
    const { invoke, deps } = setup()
    const reading = {
      v: 1,
      deviceId: 'esp32-0001',
      ts: NOW - 5_000,
      seq: 5,
      boot: 'b7',
      metrics: { rpm: 1480 },
    }

    const counts = await invoke(
      eventHubBatchOf([
        { topic: 'fleet/esp32-0001/telemetry', payload: JSON.stringify(reading), receivedAt: NOW - 4_900 },
        { topic: 'fleet/esp32-0001/status', payload: online, receivedAt: NOW - 4_800 },
      ]),
    )

    expect(counts).toMatchObject({ received: 2, stored: 2, statuses: 1 })
    expect([...deps.store.rows.values()]).toEqual([
      { deviceId: 'esp32-0001', boot: 'b7', seq: 5, ts: NOW - 5_000, metrics: { rpm: 1480 } },
    ])
    expect(deps.store.statuses).toEqual([
      { v: 1, deviceId: 'esp32-0001', state: 'online', receivedAt: NOW - 4_800 },
    ])
  })
})
