import { describe, expect, it } from 'vitest'
import { fromCloudEvent } from '../src/_utils.ts'
import {
  binaryRequestOf,
  cloudEventOf,
  MessagePublishedEventSchema,
  type Publish,
  pubSubMessageOf,
  structuredRequestOf,
} from '../src/index.ts'
import { httpRequest, payloadOf, pubsubEvent } from './_events.ts'

const prod = {
  project: 'fleetpipe-prod',
  pubsubTopic: 'fleetpipe-telemetry',
  subscription: 'projects/fleetpipe-prod/subscriptions/eventarc-europe-west1-fleetpipe-ingest-482113-sub-612',
}

/** The publish the message-published fixture came from. */
function fixturePublish(): Publish {
  const event = pubsubEvent('message-published')
  return {
    topic: 'fleet/esp32-0001/telemetry',
    payload: Buffer.from(payloadOf(event)),
    clientId: 'esp32-0001',
    receivedAt: Date.parse(event.data.message.publishTime),
  }
}

describe('emulating what GCP delivers for a bridged MQTT publish', () => {
  it('builds the messagePublished CloudEvent Eventarc delivers, field for field', () => {
    const event = pubsubEvent('message-published')
    expect(cloudEventOf(fixturePublish(), { ...prod, messageId: event.id })).toEqual(event)
    expect(MessagePublishedEventSchema.safeParse(event).success).toBe(true)
  })

  it('renders it as the HTTP requests of both content modes', () => {
    const event = pubsubEvent('message-published')
    expect(binaryRequestOf(event)).toEqual(httpRequest('binary-message-published'))
    expect(structuredRequestOf(event)).toEqual(httpRequest('structured-message-published'))
    expect(JSON.parse(httpRequest('structured-message-published').body)).toEqual(event)
    expect(JSON.parse(httpRequest('binary-message-published').body)).toEqual(event.data)
  })

  it('gives a publish the same numeric message id every time, and another publish another', () => {
    const publish = fixturePublish()
    const id = pubSubMessageOf(publish).messageId
    expect(id).toMatch(/^\d{10,17}$/)
    expect(pubSubMessageOf({ ...publish }).messageId).toBe(id)
    expect(pubSubMessageOf({ ...publish, receivedAt: publish.receivedAt + 1 }).messageId).not.toBe(id)
    expect(pubSubMessageOf({ ...publish, payload: '{}' }).messageId).not.toBe(id)
    expect(pubSubMessageOf(publish, { messageId: '42' })).toMatchObject({ messageId: '42', message_id: '42' })
  })

  it('sets deviceId only when the bridge knows the client, and names the local project by default', () => {
    const { clientId: _, ...anonymous } = fixturePublish()
    expect(pubSubMessageOf(anonymous).attributes).toEqual({ mqttTopic: 'fleet/esp32-0001/telemetry' })
    expect(cloudEventOf(anonymous)).toMatchObject({
      source: '//pubsub.googleapis.com/projects/fleetpipe-local/topics/fleetpipe-telemetry',
      data: { subscription: 'projects/fleetpipe-local/subscriptions/fleetpipe-telemetry-ingest' },
    })
  })

  it('round-trips: the handler reads back the publish it was built from', () => {
    const publish = { ...fixturePublish(), payload: new Uint8Array([0xff, 0x00, 0x7b]) }
    expect(fromCloudEvent(cloudEventOf(publish), 0)).toEqual({
      message: {
        topic: publish.topic,
        payload: Buffer.from(publish.payload),
        receivedAt: publish.receivedAt,
        transportDeviceId: 'esp32-0001',
        source: 'gcp-pubsub',
      },
      messageId: pubSubMessageOf(publish).messageId,
    })
  })

  it('puts any CloudEvent attribute into a ce- header in binary mode', () => {
    const { headers, body } = binaryRequestOf({
      specversion: '1.0',
      id: 'a-1',
      source: '//storage.googleapis.com/projects/_/buckets/b',
      type: 'google.cloud.storage.object.v1.finalized',
      subject: 'objects/o',
      data: { name: 'o' },
    })
    expect(headers).toEqual({
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'a-1',
      'ce-source': '//storage.googleapis.com/projects/_/buckets/b',
      'ce-type': 'google.cloud.storage.object.v1.finalized',
      'ce-subject': 'objects/o',
    })
    expect(JSON.parse(body)).toEqual({ name: 'o' })
  })
})
