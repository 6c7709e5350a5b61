/**
 * The AWS IoT topic rule that feeds ingest, defined once: infra creates it from these constants,
 * the local emulation applies `projectRuleEvent`, and the handlers parse what it delivers with
 * `IotRuleEventSchema`.
 */
import * as z from 'zod/mini'

/** `encode()` needs 2016-03-23 or later; pinned so a newer engine version cannot change the output. */
export const RULE_SQL_VERSION = '2016-03-23'

/**
 * Why this projection and not `SELECT *, topic(2) AS deviceId`:
 * - `encode(*, 'base64')` carries the payload verbatim, JSON or not. A payload that is not JSON cannot
 *   be merged into `*` (the Lambda action needs a JSON event, and rules cannot add fields to a binary
 *   payload), so it would never reach the handler and could not be quarantined with its raw bytes.
 * - Metadata goes beside the payload, never into it: `topic(2) AS deviceId` would overwrite the
 *   payload's own deviceId and hide a device publishing as another. The core compares the payload's
 *   deviceId with the topic and the client id, and quarantines a mismatch.
 * - `topic()` is the whole topic (Basic Ingest's `$aws/rules/<rule>/` prefix removed), `clientid()`
 *   the MQTT client id (`n/a` when the message did not come over MQTT), `timestamp()` epoch ms as the
 *   rules engine saw the message.
 * https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html
 * https://docs.aws.amazon.com/iot/latest/developerguide/binary-payloads.html
 */
export const RULE_SQL =
  "SELECT encode(*, 'base64') AS payload, topic() AS topic, clientid() AS clientId, timestamp() AS receivedAt " +
  "FROM 'fleet/+/+' WHERE topic(3) = 'telemetry' OR topic(3) = 'status'"

/** What the rule delivers: to the Lambda action as the event, to the SQS action as the body (useBase64 off). */
export const IotRuleEventSchema = z.object({
  /** The MQTT payload, base64. */
  payload: z.base64(),
  topic: z.string().check(z.minLength(1)),
  clientId: z.optional(z.string()),
  receivedAt: z.int().check(z.minimum(0)),
})
export type IotRuleEvent = z.infer<typeof IotRuleEventSchema>

/** `clientid()` for a message that did not come over MQTT (e.g. an HTTPS publish). */
export const NO_CLIENT_ID = 'n/a'

/**
 * What the rule makes of one publish, or undefined when its FROM/WHERE do not match: for local
 * emulation and tests.
 */
export function projectRuleEvent(publish: {
  topic: string
  payload: Uint8Array | string
  clientId?: string
  receivedAt: number
}): IotRuleEvent | undefined {
  const levels = publish.topic.split('/')
  // `+` matches exactly one level, so `fleet/+/+` matches three-level topics only.
  if (levels.length !== 3 || levels[0] !== 'fleet') return undefined
  if (levels[2] !== 'telemetry' && levels[2] !== 'status') return undefined
  return {
    payload: Buffer.from(publish.payload).toString('base64'),
    topic: publish.topic,
    clientId: publish.clientId ?? NO_CLIENT_ID,
    receivedAt: publish.receivedAt,
  }
}
