/**
 * Translation from what the Functions host hands an Event Hub trigger (the bodies, and the batch's
 * trigger metadata) to the core's `InboundMessage`s. Nothing is dropped and nothing throws: a
 * message that did not come from a device through IoT Hub becomes a message on no topic, carrying
 * its body, which the core quarantines (`unknown_topic`) with the raw kept.
 *
 * The Node.js worker hands over the metadata with each key's first letter lower-cased
 * (`SystemPropertiesArray` → `systemPropertiesArray`); IoT Hub's own keys are lower case already.
 * https://github.com/Azure/azure-functions-nodejs-library/blob/v4.x/src/converters/fromRpcTriggerMetadata.ts
 */
import type { InboundMessage } from '@fleetpipe/core'
import * as z from 'zod'

/** `InboundMessage.source` and `QuarantineEntry.source` of everything this function ingests. */
export const SOURCE = 'azure-iothub'

/** Where a message sat in the event hub: how an operator finds it again. */
export interface Position {
  partitionId?: string
  sequenceNumber?: number
  offset?: string
  deviceId?: string
}

export interface Translated {
  message: InboundMessage
  position: Position
  /** Why the message is not a device's telemetry through IoT Hub: where (field path) and what. */
  problem?: { path: string; issue: string }
}

/** A value that may be missing or malformed: then undefined, never a failed parse. */
const lenient = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined)

/** .NET DateTimes arrive as ISO strings; epoch ms and Dates are taken too. */
const Instant = z.union([z.string(), z.number(), z.date()]).transform((value, ctx) => {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value)
  if (Number.isFinite(ms)) return ms
  ctx.addIssue({ code: 'custom', message: 'not a timestamp' })
  return z.NEVER
})

/**
 * What IoT Hub (`iothub-*`) and Event Hubs (`x-opt-*`) stamp on each message, in
 * `systemPropertiesArray[i]`. `iothub-connection-device-id` is the device IoT Hub authenticated.
 * https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-messages-construct
 */
export const SystemPropertiesSchema = z.looseObject({
  'iothub-connection-device-id': lenient(z.string().min(1)),
  /** `Telemetry` for device-to-cloud messages; routes may add twin or lifecycle events. */
  'iothub-message-source': lenient(z.string()),
  'iothub-enqueuedtime': lenient(Instant),
  'x-opt-enqueued-time': lenient(Instant),
  'x-opt-sequence-number': lenient(z.coerce.number().int()),
  'x-opt-offset': lenient(z.union([z.string(), z.number()]).transform(String)),
})

/** The device's MQTT property bag (`devices/{id}/messages/events/channel=status`), in `propertiesArray[i]`. */
export const ApplicationPropertiesSchema = z.looseObject({ channel: lenient(z.string()) })

/** The batch-wide trigger metadata of `app.eventHub` with `cardinality: 'many'`. */
export const TriggerMetadataSchema = z.looseObject({
  systemPropertiesArray: lenient(z.array(z.unknown())),
  propertiesArray: lenient(z.array(z.unknown())),
  enqueuedTimeUtcArray: lenient(z.array(z.unknown())),
  sequenceNumberArray: lenient(z.array(z.unknown())),
  partitionContext: lenient(z.looseObject({ partitionId: lenient(z.string()) })),
})

const DEFAULT_CHANNEL = 'telemetry'

/**
 * One inbound message per event, in order. `now` stands in for an enqueued time the metadata
 * does not give.
 */
export function fromEventHubBatch(bodies: readonly unknown[], metadata: unknown, now: number): Translated[] {
  const batch = TriggerMetadataSchema.safeParse(metadata ?? {})
  const meta = batch.success ? batch.data : {}
  const partitionId = meta.partitionContext?.partitionId
  return bodies.map((body, i) => {
    const system = SystemPropertiesSchema.safeParse(meta.systemPropertiesArray?.[i] ?? {})
    const props = system.success ? system.data : {}
    const app = ApplicationPropertiesSchema.safeParse(meta.propertiesArray?.[i] ?? {})
    const deviceId = props['iothub-connection-device-id']
    const position: Position = {
      partitionId,
      sequenceNumber: props['x-opt-sequence-number'] ?? numberAt(meta.sequenceNumberArray, i),
      offset: props['x-opt-offset'],
      deviceId,
    }
    const receivedAt =
      props['iothub-enqueuedtime'] ??
      props['x-opt-enqueued-time'] ??
      instantAt(meta.enqueuedTimeUtcArray, i) ??
      now
    const payload = payloadOf(body)
    const at = `systemPropertiesArray.${i}`

    const source = props['iothub-message-source']
    if (!deviceId || (source !== undefined && source !== 'Telemetry')) {
      const problem = !deviceId
        ? { path: `${at}.iothub-connection-device-id`, issue: 'missing: not a device message from IoT Hub' }
        : { path: `${at}.iothub-message-source`, issue: `is ${source}, not Telemetry` }
      return { message: { topic: '', payload, receivedAt, source: SOURCE }, position, problem }
    }
    const channel = (app.success ? app.data.channel : undefined) ?? DEFAULT_CHANNEL
    return {
      // Any channel but telemetry or status makes a topic the core refuses (`unknown_topic`);
      // encoded, so whatever the device put in the property stays a readable topic.
      message: {
        topic: `fleet/${deviceId}/${encodeURIComponent(channel)}`,
        payload,
        receivedAt,
        transportDeviceId: deviceId,
        source: SOURCE,
      },
      position,
    }
  })
}

/**
 * The payload back from what the host made of a body. By default the host passes each event body
 * as text and the worker parses what is JSON (`tryJsonParse`), so a JSON payload arrives as a value
 * and is serialised again: the same data, not always the same bytes (whitespace, `1.0` → `1`).
 * Text that is not JSON arrives as a string; with `dataType: 'binary'` bodies arrive as Buffers.
 * https://github.com/Azure/azure-functions-nodejs-library/blob/v4.x/src/converters/fromRpcTypedData.ts
 */
export function payloadOf(body: unknown): Uint8Array | string {
  if (typeof body === 'string' || body instanceof Uint8Array) return body
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  if (body === undefined) return ''
  try {
    return JSON.stringify(body) ?? String(body)
  } catch {
    return String(body)
  }
}

function numberAt(values: unknown[] | undefined, i: number): number | undefined {
  const value = values?.[i]
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined
}

function instantAt(values: unknown[] | undefined, i: number): number | undefined {
  const parsed = Instant.safeParse(values?.[i])
  return parsed.success ? parsed.data : undefined
}
