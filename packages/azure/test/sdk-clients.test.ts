/**
 * The adapters with the real SDK clients, faked only where they meet the network: the Event Grid
 * client's HTTP client, and the IoT Hub service client's AMQP transport. Checks that the clients
 * fit the adapters' structural ports and what goes on the wire.
 */
import { EventEmitter } from 'node:events'
import { AzureKeyCredential, EventGridPublisherClient } from '@azure/eventgrid'
import type { AlertTransition, DeviceCommand } from '@fleetpipe/core'
import { Client } from 'azure-iothub'
import type { Message } from 'azure-iothub/dist/common-core/message.js'
import { describe, expect, it } from 'vitest'
import { EventGridAlertSink, IotHubCommandPublisher } from '../src/index.ts'
import { NOW, noWait, overheatAndCool } from './_fixtures.ts'

const ENDPOINT = 'https://fleetpipe-alerts.westeurope-1.eventgrid.azure.net/api/events'

interface Request {
  url: string
  method: string
  headers: Record<string, string>
  body: unknown
}

/** An HTTP client for the SDK pipeline that records each request and answers with the next status. */
function httpClient(statuses: number[]) {
  const requests: Request[] = []
  const noHeaders = {
    get: () => undefined,
    has: () => false,
    set: () => {},
    delete: () => {},
    toJSON: () => ({}),
    *[Symbol.iterator](): IterableIterator<[string, string]> {},
  }
  return {
    requests,
    client: {
      async sendRequest(request: {
        url: string
        method: string
        headers: { toJSON(): Record<string, string> }
        body?: unknown
      }) {
        requests.push({
          url: request.url,
          method: request.method,
          headers: request.headers.toJSON(),
          body: JSON.parse(String(request.body)),
        })
        return { status: statuses.shift() ?? 200, headers: noHeaders, request, bodyAsText: '' }
      },
    },
  }
}

function eventGrid(statuses: number[] = []) {
  const http = httpClient(statuses)
  const client = new EventGridPublisherClient(ENDPOINT, 'CloudEvent', new AzureKeyCredential('k3y'), {
    httpClient: http.client as never,
    // The sink retries; the pipeline's own retries would multiply its attempts.
    retryOptions: { maxRetries: 0 },
  })
  return { sink: new EventGridAlertSink(client, { stage: 'prod', retry: noWait }), requests: http.requests }
}

describe('EventGridAlertSink with EventGridPublisherClient', () => {
  it('posts a CloudEvents 1.0 batch with the access key', async () => {
    const { sink, requests } = eventGrid()
    const [opened] = overheatAndCool('esp32-0001') as [AlertTransition]

    await sink.publish([opened])

    expect(requests).toHaveLength(1)
    const [request] = requests as [Request]
    expect(request.url.startsWith(`${ENDPOINT}?api-version=`)).toBe(true)
    expect(request.method).toBe('POST')
    expect(request.headers['aeg-sas-key']).toBe('k3y')
    expect(request.headers['content-type']).toMatch(/^application\/cloudevents-batch\+json/)
    expect(request.body).toEqual([
      {
        specversion: '1.0',
        type: 'fleetpipe.alert.opened',
        source: '/fleetpipe/prod/devices/esp32-0001',
        id: `esp32-0001:over-temperature:${NOW}:opened:${NOW}`,
        time: new Date(NOW).toISOString(),
        subject: 'esp32-0001/over-temperature',
        datacontenttype: 'application/json',
        data: JSON.parse(JSON.stringify(opened)),
      },
    ])
  })

  it("retries the service's 503 and sends the same batch again", async () => {
    const { sink, requests } = eventGrid([503, 200])

    await sink.publish(overheatAndCool())

    expect(requests).toHaveLength(2)
    expect(requests[1]?.body).toEqual(requests[0]?.body)
  })
})

/** An AMQP transport stand-in: records what the service client hands it. */
class RecordingTransport extends EventEmitter {
  static last: RecordingTransport | undefined
  readonly sent: { deviceId: string; message: Message }[] = []
  constructor(readonly config: { host: string; keyName?: string }) {
    super()
    RecordingTransport.last = this
  }
  connect(done?: (error?: Error, result?: unknown) => void) {
    done?.(undefined, {})
  }
  disconnect(done: (error?: Error, result?: unknown) => void) {
    done(undefined, {})
  }
  send(deviceId: string, message: Message, done?: (error?: Error, result?: unknown) => void) {
    this.sent.push({ deviceId, message })
    done?.(undefined, { transportObj: {} })
  }
  getFeedbackReceiver() {}
  getFileNotificationReceiver() {}
}

describe('IotHubCommandPublisher with the azure-iothub service Client', () => {
  it('hands the transport our message, unchanged, addressed to the device', async () => {
    const connection =
      'HostName=fleetpipe.azure-devices.net;SharedAccessKeyName=service;SharedAccessKey=c2VjcmV0LWtleS1mb3ItdGVzdHM='
    const client = Client.fromConnectionString(connection, RecordingTransport as never)
    const command: DeviceCommand = { id: 'c-1', deviceId: 'esp32-0001', command: 'safe-mode', reason: 'hot' }

    await new IotHubCommandPublisher(client).send([command])

    const transport = RecordingTransport.last as RecordingTransport
    expect(transport.config).toMatchObject({ host: 'fleetpipe.azure-devices.net', keyName: 'service' })
    expect(transport.sent).toHaveLength(1)
    const [{ deviceId, message }] = transport.sent as [{ deviceId: string; message: Message }]
    expect(deviceId).toBe('esp32-0001')
    expect(message.getBytes().toString('utf8')).toBe(JSON.stringify(command))
    expect(message.messageId).toBe('c-1')
    expect(message.contentType).toBe('application/json')
    expect(message.contentEncoding).toBe('utf-8')
    expect(message.properties.getValue('topic')).toBe('fleet/esp32-0001/commands')
  })
})
