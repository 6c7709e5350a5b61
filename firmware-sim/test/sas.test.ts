import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { sasSignature, sasToken } from '../src/index.ts'

describe('sasToken', () => {
  it('follows the documented algorithm, step by step', () => {
    const resourceUri = 'myhub.azure-devices.net/devices/esp32-0001'
    const key = Buffer.from('a device key of 32 bytes, really').toString('base64')
    const expiry = 1_767_225_600

    // https://learn.microsoft.com/azure/iot-hub/iot-hub-dev-guide-sas#security-token-structure
    const encodedUri = 'myhub.azure-devices.net%2Fdevices%2Fesp32-0001'
    const stringToSign = `${encodedUri}\n${expiry}`
    const hmac = createHmac('sha256', Buffer.from(key, 'base64')).update(stringToSign).digest()
    const sig = encodeURIComponent(hmac.toString('base64'))

    expect(sasToken(resourceUri, key, expiry)).toBe(
      `SharedAccessSignature sr=${encodedUri}&sig=${sig}&se=${expiry}`,
    )
    expect(sasToken(resourceUri, key, expiry, 'device')).toBe(
      `SharedAccessSignature sr=${encodedUri}&sig=${sig}&se=${expiry}&skn=device`,
    )
  })

  it('signs as the Azure IoT SDK does: its published known answers', () => {
    // Azure/azure-iot-sdk-java, iot-e2e-tests SignatureIT: the SDK's Signature signs the string it
    // is given (callers pass the URL-encoded resource URI) and URL-encodes the base64 result.
    const signed = 'sdktesthub.private.azure-devices-int.net/devices/test8'
    const expiry = 1462333672
    expect(
      encodeURIComponent(sasSignature(signed, 'q+DKVojmMz014RjAwpNGZbAkdOocSVWMKPOccLfUmLE=', expiry)),
    ).toBe('ZrTYgp6uRmbDl4lzzewxFD9FoaNKIK7G2bdivDbtc9A%3D')
    const someKey = Buffer.from('someKey').toString('base64')
    expect(encodeURIComponent(sasSignature(signed, someKey, expiry))).toBe(
      'muQ9Ny9BYertoUY%2BtyisIG16b67p8QHrDefXA4V1qLM%3D',
    )
  })

  it('refuses an expiry that is not whole seconds', () => {
    expect(() => sasToken('h/devices/d', 'a2V5', 1.5)).toThrow(/whole seconds/)
  })
})
