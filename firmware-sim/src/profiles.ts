/**
 * Connection profiles: how a simulated device reaches its broker (URL, client id, credentials, TLS)
 * and which topics it uses there. The device behaves the same everywhere; only this differs.
 */
import { readFileSync } from 'node:fs'
import { ConfigError, topics } from '@fleetpipe/core'
import type { IClientOptions } from 'mqtt'
import { sasToken } from './sas.ts'

export const PROFILE_NAMES = ['local', 'aws', 'azure'] as const
export type ProfileName = (typeof PROFILE_NAMES)[number]

/** One device's view of its broker. */
export interface DeviceEndpoint {
  url: string
  /** Client id, credentials and TLS settings, as mqtt.js takes them. */
  options: IClientOptions
  telemetryTopic: string
  /** Birth, clean goodbye and last will. */
  statusTopic: string
  /** Whether the broker keeps the last status for late subscribers. */
  retainStatus: boolean
  /** The subscription that brings the device its commands. */
  commandFilter: string
  /**
   * Where the device acknowledges a command it received; absent where the platform has its own
   * acknowledgement (IoT Hub's C2D feedback) and a device message there would be refused.
   */
  ackTopic?: string
  isCommand(topic: string): boolean
  /** Fresh credentials for a reconnect, where they expire. */
  renew?(): Pick<IClientOptions, 'password'>
}

export interface ConnectionProfile {
  readonly name: ProfileName
  /** Where devices connect, for messages; never a secret. */
  readonly broker: string
  endpoint(deviceId: string): DeviceEndpoint
}

/**
 * Where a device acknowledges commands: a channel the pipeline's bridge and IoT rule do not
 * subscribe to (they take `fleet/+/telemetry` and `fleet/+/status`), so acks never reach ingest;
 * whoever sends commands can subscribe to `fleet/+/acks`.
 */
export const ackTopic = (deviceId: string) => `fleet/${deviceId}/acks`

/** fleetpipe's own topics: `fleet/{id}/telemetry|status|commands|acks`. */
function fleetTopics(deviceId: string) {
  const commands = topics.commands(deviceId)
  return {
    telemetryTopic: topics.telemetry(deviceId),
    statusTopic: topics.status(deviceId),
    retainStatus: true,
    commandFilter: commands,
    ackTopic: ackTopic(deviceId),
    isCommand: (topic: string) => topic === commands,
  }
}

/** Any MQTT broker by URL, such as the embedded one `fleetpipe dev` starts, or Mosquitto. */
export function localProfile(brokerUrl: string): ConnectionProfile {
  parseUrl(brokerUrl, ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'], 'local')
  return {
    name: 'local',
    broker: brokerUrl,
    endpoint: (deviceId) => ({ url: brokerUrl, options: { clientId: deviceId }, ...fleetTopics(deviceId) }),
  }
}

export interface AwsProfileOptions {
  /** `mqtts://{prefix}-ats.iot.{region}.amazonaws.com`, on 8883 (the default) or 443. */
  brokerUrl: string
  /** Path of the device certificate (PEM) registered in AWS IoT. */
  cert?: string
  /** Path of its private key (PEM). */
  key?: string
  /** Path of the CA bundle; Node already trusts Amazon Root CA 1, which signs the ATS endpoints. */
  ca?: string
  readFile?: (path: string) => Buffer
}

/** AWS IoT Core accepts MQTT with client certificates on 443 only when ALPN names this protocol. */
export const AWS_ALPN = 'x-amzn-mqtt-ca'

/**
 * AWS IoT Core: mutual TLS with a certificate and key, on 8883 or on 443 with ALPN `x-amzn-mqtt-ca`,
 * and fleetpipe's topics. The client id is the device id: an IoT policy using
 * `${iot:Connection.Thing.ThingName}` only matches when it equals a thing attached to the certificate,
 * so one certificate shared by a simulated fleet needs a policy allowing `client/{prefix}*` instead.
 * https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html
 */
export function awsProfile(options: AwsProfileOptions): ConnectionProfile {
  const url = parseUrl(options.brokerUrl, ['mqtts:'], 'aws')
  const read = options.readFile ?? readFileSync
  const cert = pem(read, '--cert', options.cert, 'the device certificate registered in AWS IoT')
  const key = pem(read, '--key', options.key, "the certificate's private key")
  const ca = options.ca === undefined ? undefined : pem(read, '--ca', options.ca, 'the CA bundle')
  const tls: IClientOptions = { cert, key, ...(ca ? { ca } : {}), rejectUnauthorized: true }
  if (url.port === '443') tls.ALPNProtocols = [AWS_ALPN]
  return {
    name: 'aws',
    broker: options.brokerUrl,
    endpoint: (deviceId) => ({
      url: options.brokerUrl,
      options: { clientId: deviceId, ...tls },
      ...fleetTopics(deviceId),
    }),
  }
}

export interface AzureProfileOptions {
  /** `mqtts://{hub}.azure-devices.net` (port 8883). */
  brokerUrl: string
  /** A device's symmetric key (base64); every simulated device signs with it. */
  deviceKey?: string
  /** The key of a shared access policy with DeviceConnect permission (such as `device`). */
  hubKey?: string
  hubKeyName?: string
  /** How long a SAS token lasts; a reconnect signs a new one. */
  tokenSeconds?: number
  now?: () => number
}

/** The api-version in the MQTT username; IoT Hub treats a missing one as the oldest behaviour. */
export const AZURE_API_VERSION = '2021-04-12'
const DEFAULT_TOKEN_SECONDS = 3_600

/**
 * Azure IoT Hub over MQTT 3.1.1 on 8883: username `{hub}/{deviceId}/?api-version=…`, password a SAS
 * token for `{hub}/devices/{deviceId}`, signed with the device's key or with a DeviceConnect policy's
 * key (then the token names the policy in `skn`). IoT Hub takes device-to-cloud messages only on
 * `devices/{id}/messages/events/{property bag}`, so telemetry and status travel there with
 * `channel=telemetry|status` (the Azure function reads the channel from the bag), the last will
 * included; commands arrive on `devices/{id}/messages/devicebound/…`. IoT Hub keeps no retained
 * messages, so status is not retained.
 * https://learn.microsoft.com/azure/iot-hub/iot-hub-mqtt-support
 * https://learn.microsoft.com/azure/iot-hub/iot-hub-dev-guide-sas
 */
export function azureProfile(options: AzureProfileOptions): ConnectionProfile {
  const url = parseUrl(options.brokerUrl, ['mqtts:'], 'azure')
  const host = url.hostname
  const { deviceKey, hubKey, hubKeyName } = options
  if (deviceKey !== undefined && hubKey !== undefined) {
    throw new ConfigError('the azure profile takes --device-key or --hub-key, not both')
  }
  if (deviceKey === undefined && hubKey === undefined) {
    throw new ConfigError(
      'the azure profile needs --device-key KEY (the device’s primary key) or --hub-key KEY with --hub-key-name NAME (a policy with DeviceConnect)',
    )
  }
  if (hubKey !== undefined && !hubKeyName) {
    throw new ConfigError(
      '--hub-key needs --hub-key-name: the shared access policy it belongs to, e.g. device',
    )
  }
  const key = (deviceKey ?? hubKey) as string
  if (!isBase64(key)) {
    throw new ConfigError(
      `${deviceKey ? '--device-key' : '--hub-key'} must be a base64 key, as the portal shows it`,
    )
  }
  const seconds = options.tokenSeconds ?? DEFAULT_TOKEN_SECONDS
  const now = options.now ?? Date.now
  const policy = deviceKey === undefined ? hubKeyName : undefined
  const token = (deviceId: string) =>
    sasToken(`${host}/devices/${deviceId}`, key, Math.floor(now() / 1000) + seconds, policy)

  return {
    name: 'azure',
    broker: options.brokerUrl,
    endpoint: (deviceId) => {
      const events = `devices/${deviceId}/messages/events/`
      const devicebound = `devices/${deviceId}/messages/devicebound/`
      return {
        url: options.brokerUrl,
        options: {
          clientId: deviceId,
          username: `${host}/${deviceId}/?api-version=${AZURE_API_VERSION}`,
          password: token(deviceId),
          protocolVersion: 4,
          rejectUnauthorized: true,
        },
        telemetryTopic: events + propertyBag({ channel: 'telemetry' }),
        statusTopic: events + propertyBag({ channel: 'status' }),
        retainStatus: false,
        commandFilter: `${devicebound}#`,
        isCommand: (topic) => topic.startsWith(devicebound),
        renew: () => ({ password: token(deviceId) }),
      }
    },
  }
}

/** Application properties as IoT Hub reads them from a topic: URL-encoded `key=value` pairs. */
export function propertyBag(properties: Record<string, string>): string {
  return Object.entries(properties)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&')
}

function parseUrl(text: string, protocols: string[], profile: ProfileName): URL {
  let url: URL | undefined
  try {
    url = new URL(text)
  } catch {
    url = undefined
  }
  if (!url || !protocols.includes(url.protocol)) {
    const schemes = protocols.map((p) => `${p}//`).join(' or ')
    throw new ConfigError(
      `the ${profile} profile needs --broker as a URL starting with ${schemes}, got ${text}`,
    )
  }
  return url
}

function pem(read: (path: string) => Buffer, flag: string, path: string | undefined, what: string): Buffer {
  if (!path) throw new ConfigError(`the aws profile needs ${flag} FILE: ${what} (PEM)`)
  let content: Buffer
  try {
    content = read(path)
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new ConfigError(`${flag}: cannot read ${path} (${reason})`, { cause: error })
  }
  if (!content.includes('-----BEGIN')) throw new ConfigError(`${flag}: ${path} is not a PEM file`)
  return content
}

function isBase64(text: string): boolean {
  return text.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0
}
