/**
 * What the Functions host would hand the ingest function for some MQTT publishes that devices sent
 * to IoT Hub: the bodies and the batch's trigger metadata, for running the Azure handler locally
 * and for tests that hold every cloud to the same contract.
 */
import { parseTopic } from '@fleetpipe/core'
import { DEFAULT_CONSUMER_GROUP } from './config.ts'

export interface Publish {
  topic: string
  payload: Uint8Array | string
  /** The MQTT client id, which IoT Hub requires to be the device id; the topic's device when absent. */
  clientId?: string
  receivedAt: number
}

/** `messages` and `triggerMetadata`, as an `app.eventHub` handler with `cardinality: 'many'` gets them. */
export interface EventHubBatch {
  messages: unknown[]
  triggerMetadata: Record<string, unknown>
}

const EVENT_HUB_NAME = 'fleetpipe-iothub'
const NAMESPACE = 'ihsuprodfleetpipe.servicebus.windows.net'
const AUTH_METHOD = '{"scope":"device","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}'
const AUTH_GENERATION_ID = '638678512345678901'
/** Offsets are byte positions in the partition; each event here takes this much room. */
const OFFSET_STRIDE = 1024
/** IoT Hub hands a message on to its Event Hub-compatible endpoint a few tens of ms after receiving it. */
const ENDPOINT_LAG_MS = 45

/**
 * The batch for these publishes, all on partition 0 with sequence numbers from `startSequence`.
 * Publishes on topics other than `fleet/{deviceId}/telemetry` or `/status` are left out: on Azure
 * a device publishes to `devices/{id}/messages/events/channel={channel}`, and IoT Hub takes
 * device-to-cloud messages on no other topic.
 *
 * Bodies are as the host delivers them by default: the payload as UTF-8 text (bytes that are not
 * UTF-8 come out as U+FFFD, as they do on Azure), which the worker then parses when it is JSON. So a
 * JSON payload is a value (usually an object), anything else a string; never a Buffer, which only
 * `dataType: 'binary'` gives. Metadata keys are as the Node.js worker hands them over (first
 * letter lower-cased), with IoT Hub's system properties and the device's property bag per message.
 * https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-messages-construct
 */
export function eventHubBatchOf(publishes: readonly Publish[], startSequence = 0): EventHubBatch {
  const messages: unknown[] = []
  const systemPropertiesArray: Record<string, unknown>[] = []
  const propertiesArray: Record<string, string>[] = []
  const enqueuedTimeUtcArray: string[] = []
  const sequenceNumberArray: number[] = []
  const offsetArray: string[] = []
  const partitionKeyArray: null[] = []

  for (const publish of publishes) {
    const route = parseTopic(publish.topic)
    if (!route || route.channel === 'commands') continue
    const sequenceNumber = startSequence + messages.length
    const offset = String(sequenceNumber * OFFSET_STRIDE)
    const received = new Date(publish.receivedAt).toISOString()
    const enqueued = new Date(publish.receivedAt + ENDPOINT_LAG_MS).toISOString()
    messages.push(hostBody(publish.payload))
    systemPropertiesArray.push({
      'iothub-connection-device-id': publish.clientId ?? route.deviceId,
      'iothub-connection-auth-method': AUTH_METHOD,
      'iothub-connection-auth-generation-id': AUTH_GENERATION_ID,
      'iothub-enqueuedtime': received,
      'iothub-message-source': 'Telemetry',
      'x-opt-sequence-number': sequenceNumber,
      'x-opt-offset': offset,
      'x-opt-enqueued-time': enqueued,
      sequenceNumber,
      offset,
      partitionKey: null,
      enqueuedTimeUtc: enqueued,
    })
    propertiesArray.push({ channel: route.channel })
    enqueuedTimeUtcArray.push(enqueued)
    sequenceNumberArray.push(sequenceNumber)
    offsetArray.push(offset)
    partitionKeyArray.push(null)
  }

  return {
    messages,
    triggerMetadata: {
      partitionContext: {
        fullyQualifiedNamespace: NAMESPACE,
        eventHubName: EVENT_HUB_NAME,
        consumerGroup: DEFAULT_CONSUMER_GROUP,
        partitionId: '0',
      },
      partitionKeyArray,
      offsetArray,
      sequenceNumberArray,
      enqueuedTimeUtcArray,
      propertiesArray,
      systemPropertiesArray,
    },
  }
}

/** The host passes the body as UTF-8 text; the worker parses it when it is JSON (`tryJsonParse`). */
function hostBody(payload: Uint8Array | string): unknown {
  const text = typeof payload === 'string' ? payload : new TextDecoder('utf-8').decode(payload)
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
