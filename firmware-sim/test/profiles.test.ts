import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '@fleetpipe/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { awsProfile, azureProfile, localProfile, sasToken } from '../src/index.ts'

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n'

let dir: string
let cert: string
let key: string
let notPem: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetpipe-profiles-'))
  cert = join(dir, 'device.pem.crt')
  key = join(dir, 'private.pem.key')
  notPem = join(dir, 'notes.txt')
  await writeFile(cert, PEM)
  await writeFile(key, KEY_PEM)
  await writeFile(notPem, 'hello')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('localProfile', () => {
  it("uses fleetpipe's topics on the given broker, client id = device id, retained status", () => {
    const endpoint = localProfile('mqtt://127.0.0.1:1883').endpoint('esp32-0001')
    expect(endpoint).toMatchObject({
      url: 'mqtt://127.0.0.1:1883',
      options: { clientId: 'esp32-0001' },
      telemetryTopic: 'fleet/esp32-0001/telemetry',
      statusTopic: 'fleet/esp32-0001/status',
      commandFilter: 'fleet/esp32-0001/commands',
      retainStatus: true,
    })
    expect(endpoint.isCommand('fleet/esp32-0001/commands')).toBe(true)
    expect(endpoint.isCommand('fleet/esp32-0002/commands')).toBe(false)
  })

  it('refuses something that is not a broker URL', () => {
    expect(() => localProfile('localhost:1883')).toThrow(ConfigError)
    expect(() => localProfile('http://localhost')).toThrow(/--broker as a URL starting with mqtt:\/\//)
  })
})

describe('awsProfile', () => {
  const broker = 'mqtts://abc123-ats.iot.eu-west-1.amazonaws.com'

  it('connects with the certificate and key on 8883, fleet topics, client id = device id', () => {
    const endpoint = awsProfile({ brokerUrl: broker, cert, key }).endpoint('esp32-0007')
    expect(endpoint.url).toBe(broker)
    expect(endpoint.options.clientId).toBe('esp32-0007')
    expect(String(endpoint.options.cert)).toBe(PEM)
    expect(String(endpoint.options.key)).toBe(KEY_PEM)
    expect(endpoint.options.ca).toBeUndefined()
    expect(endpoint.options.rejectUnauthorized).toBe(true)
    expect(endpoint.options.ALPNProtocols).toBeUndefined()
    expect(endpoint.telemetryTopic).toBe('fleet/esp32-0007/telemetry')
    expect(endpoint.statusTopic).toBe('fleet/esp32-0007/status')
    expect(endpoint.commandFilter).toBe('fleet/esp32-0007/commands')
  })

  it('asks for ALPN x-amzn-mqtt-ca on port 443, and takes a CA file', () => {
    const endpoint = awsProfile({ brokerUrl: `${broker}:443`, cert, key, ca: cert }).endpoint('d1')
    expect(endpoint.options.ALPNProtocols).toEqual(['x-amzn-mqtt-ca'])
    expect(String(endpoint.options.ca)).toBe(PEM)
  })

  it('names the missing flag, or the file it cannot read', () => {
    expect(() => awsProfile({ brokerUrl: broker, key })).toThrow(/needs --cert FILE/)
    expect(() => awsProfile({ brokerUrl: broker, cert })).toThrow(/needs --key FILE/)
    const missing = join(dir, 'nope.pem')
    expect(() => awsProfile({ brokerUrl: broker, cert: missing, key })).toThrow(
      `--cert: cannot read ${missing} (ENOENT)`,
    )
    expect(() => awsProfile({ brokerUrl: broker, cert, key: dir })).toThrow(
      `--key: cannot read ${dir} (EISDIR)`,
    )
    expect(() => awsProfile({ brokerUrl: broker, cert, key, ca: notPem })).toThrow(
      `--ca: ${notPem} is not a PEM file`,
    )
  })

  it('needs TLS', () => {
    expect(() =>
      awsProfile({ brokerUrl: 'mqtt://abc123-ats.iot.eu-west-1.amazonaws.com', cert, key }),
    ).toThrow(/aws profile needs --broker as a URL starting with mqtts:\/\//)
  })
})

describe('azureProfile', () => {
  const broker = 'mqtts://myhub.azure-devices.net'
  const deviceKey = Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')
  const now = () => 1_767_225_600_000

  it('signs in as IoT Hub expects and publishes to the D2C topic with a channel property', () => {
    const endpoint = azureProfile({ brokerUrl: broker, deviceKey, now }).endpoint('esp32-0001')
    expect(endpoint.url).toBe(broker)
    expect(endpoint.options).toMatchObject({
      clientId: 'esp32-0001',
      username: 'myhub.azure-devices.net/esp32-0001/?api-version=2021-04-12',
      password: sasToken('myhub.azure-devices.net/devices/esp32-0001', deviceKey, 1_767_225_600 + 3_600),
      protocolVersion: 4,
      rejectUnauthorized: true,
    })
    expect(endpoint.telemetryTopic).toBe('devices/esp32-0001/messages/events/channel=telemetry')
    expect(endpoint.statusTopic).toBe('devices/esp32-0001/messages/events/channel=status')
    expect(endpoint.retainStatus).toBe(false)
    expect(endpoint.commandFilter).toBe('devices/esp32-0001/messages/devicebound/#')
    expect(
      endpoint.isCommand('devices/esp32-0001/messages/devicebound/topic=fleet%2Fesp32-0001%2Fcommands'),
    ).toBe(true)
    expect(endpoint.isCommand('devices/esp32-0002/messages/devicebound/')).toBe(false)
  })

  it('signs with a shared access policy, naming it, and renews the token for a reconnect', () => {
    let clock = now()
    const profile = azureProfile({
      brokerUrl: broker,
      hubKey: deviceKey,
      hubKeyName: 'device',
      tokenSeconds: 600,
      now: () => clock,
    })
    const endpoint = profile.endpoint('esp32-0002')
    expect(endpoint.options.password).toBe(
      sasToken('myhub.azure-devices.net/devices/esp32-0002', deviceKey, 1_767_225_600 + 600, 'device'),
    )
    expect(String(endpoint.options.password)).toMatch(/&skn=device$/)
    clock += 60_000
    expect(endpoint.renew?.().password).toBe(
      sasToken('myhub.azure-devices.net/devices/esp32-0002', deviceKey, 1_767_225_660 + 600, 'device'),
    )
  })

  it('says which key it needs', () => {
    expect(() => azureProfile({ brokerUrl: broker })).toThrow(/needs --device-key KEY .* or --hub-key KEY/)
    expect(() => azureProfile({ brokerUrl: broker, hubKey: deviceKey })).toThrow(
      /--hub-key needs --hub-key-name/,
    )
    expect(() =>
      azureProfile({ brokerUrl: broker, deviceKey, hubKey: deviceKey, hubKeyName: 'device' }),
    ).toThrow(/not both/)
    expect(() => azureProfile({ brokerUrl: broker, deviceKey: 'not base64!' })).toThrow(
      /--device-key must be a base64/,
    )
    expect(() => azureProfile({ brokerUrl: 'mqtt://myhub.azure-devices.net', deviceKey })).toThrow(
      /mqtts:\/\//,
    )
  })
})
