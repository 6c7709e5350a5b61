/**
 * One device's MQTT session, behaving as fleetpipe firmware does (last will, birth, command
 * subscription) on the broker and topics its connection profile names.
 */
import net from 'node:net'
import { ConfigError, type DeviceCommand, type StatusInput, type TelemetryInput } from '@fleetpipe/core'
import mqtt, { type MqttClient } from 'mqtt'
import { type ConnectionProfile, localProfile } from './profiles.ts'

export interface DeviceLinkOptions {
  /** Where and how to connect; without it, the local profile on `brokerUrl`. */
  profile?: ConnectionProfile
  brokerUrl?: string
  deviceId: string
  boot: string
  fw: string
  connectTimeoutMs: number
  reconnectPeriodMs: number
  onCommand: (payload: Buffer) => void
  onError: (error: Error) => void
}

export interface DeviceLink {
  readonly connected: boolean
  /**
   * QoS 1; `done` runs once the broker acknowledges, or with the error that stopped it. A string is
   * sent as is, so fault injection can publish what no schema would produce.
   */
  publishTelemetry(reading: TelemetryInput | string, done: (error?: Error) => void): void
  /** Says `offline` (a clean disconnect drops the last will) and ends the session. */
  close(timeoutMs: number): Promise<void>
  /** Drops the connection without DISCONNECT, as a device losing power or going to deep sleep: the will fires. */
  powerLoss(): void
}

export async function connectDevice(options: DeviceLinkOptions): Promise<DeviceLink> {
  const { deviceId, boot, fw, onError } = options
  const profile = options.profile ?? localProfile(required(options.brokerUrl))
  const brokerUrl = profile.broker
  const endpoint = profile.endpoint(deviceId)
  const { statusTopic, commandFilter, retainStatus } = endpoint
  const status = (state: StatusInput['state'], ts?: number): string =>
    JSON.stringify({ v: 1, deviceId, state, ...(ts === undefined ? {} : { ts }), boot, fw })

  let client: MqttClient
  try {
    // Without retries a failed first attempt rejects instead of retrying forever; later drops still reconnect.
    client = await mqtt.connectAsync(
      endpoint.url,
      {
        ...endpoint.options,
        keepalive: 60,
        clean: true,
        resubscribe: false,
        connectTimeout: options.connectTimeoutMs,
        reconnectPeriod: options.reconnectPeriodMs,
        // The will is fixed at connect time, so it carries no timestamp.
        will: { topic: statusTopic, payload: Buffer.from(status('offline')), qos: 1, retain: retainStatus },
      },
      false,
    )
  } catch (error) {
    throw new Error(`${deviceId} cannot connect to the MQTT broker at ${brokerUrl}: ${message(error)}`, {
      cause: error,
    })
  }

  client.on('error', (error) => onError(new Error(`${deviceId}: ${error.message}`, { cause: error })))
  client.on('message', (topic, payload) => {
    if (endpoint.isCommand(topic)) options.onCommand(payload)
  })
  // Expiring credentials (SAS tokens) are signed anew before each reconnect.
  const { renew } = endpoint
  if (renew) client.on('reconnect', () => Object.assign(client.options, renew()))

  // A clean session forgets subscriptions, so every (re)connect subscribes again before saying `online`.
  const announce = async () => {
    // Nagle's algorithm holds small publishes back ~40 ms waiting for more to coalesce.
    if (client.stream instanceof net.Socket) client.stream.setNoDelay(true)
    const grants = await client.subscribeAsync(commandFilter, { qos: 1 })
    if (grants.some((grant) => grant.qos === 128)) throw new Error(`broker refused ${commandFilter}`)
    await client.publishAsync(statusTopic, status('online', Date.now()), { qos: 1, retain: retainStatus })
  }

  try {
    await withTimeout(announce(), options.connectTimeoutMs, `${deviceId} timed out announcing itself`)
  } catch (error) {
    client.end(true)
    throw new Error(`${deviceId} connected to ${brokerUrl} but could not come online: ${message(error)}`, {
      cause: error,
    })
  }
  client.on('connect', () => {
    announce().catch((error: unknown) =>
      onError(new Error(`${deviceId}: ${message(error)}`, { cause: error })),
    )
  })

  return {
    get connected() {
      return client.connected
    },
    publishTelemetry(reading, done) {
      const payload = typeof reading === 'string' ? reading : JSON.stringify(reading)
      client.publish(endpoint.telemetryTopic, payload, { qos: 1 }, (error) => done(error))
    },
    powerLoss() {
      client.options.reconnectPeriod = 0
      client.stream.destroy()
      client.end(true)
    },
    async close(timeoutMs) {
      try {
        if (client.connected) {
          const offline = client.publishAsync(statusTopic, status('offline', Date.now()), {
            qos: 1,
            retain: retainStatus,
          })
          await withTimeout(offline, timeoutMs, `${deviceId} timed out publishing offline`)
        }
        await withTimeout(client.endAsync(), timeoutMs, `${deviceId} timed out disconnecting`)
      } catch (error) {
        onError(error instanceof Error ? error : new Error(message(error)))
        await client.endAsync(true)
      }
    },
  }
}

/** A command from the cloud, or undefined for a payload no firmware would act on. */
export function parseCommand(payload: Buffer | string, deviceId: string): DeviceCommand | undefined {
  let body: unknown
  try {
    body = JSON.parse(payload.toString())
  } catch {
    return undefined
  }
  if (!isRecord(body)) return undefined
  const { id, command, deviceId: target, args, reason } = body
  if (typeof id !== 'string' || typeof command !== 'string' || target !== deviceId) return undefined
  return {
    id,
    deviceId,
    command,
    ...(isRecord(args) ? { args } : {}),
    ...(typeof reason === 'string' ? { reason } : {}),
  }
}

function required(brokerUrl: string | undefined): string {
  if (!brokerUrl) throw new ConfigError('connectDevice needs a profile or a brokerUrl')
  return brokerUrl
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
