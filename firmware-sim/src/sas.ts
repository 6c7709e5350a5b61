/**
 * Azure IoT Hub shared access signatures, computed as the documented algorithm does, so a simulated
 * device authenticates without the Azure SDK.
 * https://learn.microsoft.com/azure/iot-hub/iot-hub-dev-guide-sas#security-token-structure
 */
import { createHmac } from 'node:crypto'

/**
 * A SAS token: `SharedAccessSignature sr={urlenc(resourceUri)}&sig={sig}&se={expiry}`, plus
 * `&skn={policy}` when signed with a shared access policy's key rather than the device's own.
 *
 * @example
 * // The MQTT password of device esp32-0001:
 * sasToken('myhub.azure-devices.net/devices/esp32-0001', deviceKey, Math.floor(Date.now() / 1000) + 3600)
 */
export function sasToken(
  resourceUri: string,
  key: string,
  expirySeconds: number,
  policyName?: string,
): string {
  if (!Number.isInteger(expirySeconds))
    throw new RangeError(`expiry must be whole seconds, got ${expirySeconds}`)
  const sr = encodeURIComponent(resourceUri)
  const sig = encodeURIComponent(sasSignature(sr, key, expirySeconds))
  const skn = policyName ? `&skn=${encodeURIComponent(policyName)}` : ''
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${expirySeconds}${skn}`
}

/** base64(HMAC-SHA256(base64decode(key), `${encodedResourceUri}\n${expiry}`)), not yet URL-encoded. */
export function sasSignature(encodedResourceUri: string, key: string, expirySeconds: number): string {
  return createHmac('sha256', Buffer.from(key, 'base64'))
    .update(`${encodedResourceUri}\n${expirySeconds}`)
    .digest('base64')
}
