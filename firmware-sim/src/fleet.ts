/** A simulated fleet: many devices, each with its own MQTT session, all driven by one scheduler timer. */
import { randomInt } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { ConfigError } from '@fleetpipe/core'
import { type Label, SimDevice } from './device.ts'
import { FaultInjector, type FaultRule, parseFaults } from './faults.ts'
import { LatencyHistogram } from './latency.ts'
import { type ConnectionProfile, localProfile } from './profiles.ts'
import { Random, seedFor } from './random.ts'
import { FleetScheduler } from './scheduler.ts'
import { connectDevice, type DeviceLink, parseCommand } from './transport.ts'

export interface FleetOptions {
  /** Where and how devices connect; without it, the local profile on `brokerUrl`. */
  profile?: ConnectionProfile
  brokerUrl?: string
  devices: number
  rateHz: number
  /** Same seed, same devices, boot ids and sensor noise. */
  seed?: number
  idPrefix?: string
  /** Probability per device per second that an overheat episode starts; 0 turns anomalies off. */
  anomalyChance?: number
  /** Faults to inject, as a spec (`spike:0.01,dropout:0.001@esp32-00*`) or parsed rules. */
  faults?: string | readonly FaultRule[]
  /** Errors after start: lost connections, failed publishes. They never stop the fleet. */
  onError?: (error: Error) => void
}

export interface FleetStats {
  devices: number
  connected: number
  /** Telemetry publish calls. */
  published: number
  acked: number
  failed: number
  /** Readings taken while the device was disconnected and never sent: they show up as seq gaps. */
  dropped: number
  /** Messages received on command topics. */
  commands: number
  /** Commands not acted on: unknown, malformed, addressed to another device, or repeated. */
  ignoredCommands: number
  /** Overheat episodes started. */
  episodes: number
  /** From publish to the broker's PUBACK, as the client sees it; null before the first ack. */
  ackLatencyMs: { p50: number | null; p99: number | null }
}

export interface Fleet {
  stats(): FleetStats
  deviceIds: string[]
  /**
   * Ground truth: overheat episodes that have ended (`stop()` ends the rest), then injected faults
   * (one still under way has its `endTs` so far).
   */
  labels(): Label[]
  stop(): Promise<void>
}

export const DEFAULT_ANOMALY_CHANCE = 0.002
/** Connecting thousands of sessions at once floods the broker's accept queue. */
const CONNECT_BATCH = 50
const CONNECT_TIMEOUT_MS = 5_000
const STOP_TIMEOUT_MS = 5_000
/** Spread apart so a restarted broker is not hit by every device in the same instant. */
const RECONNECT_PERIOD_MS: readonly [number, number] = [1_000, 3_000]
const FAULT_SEED = 0xfa017

/** Resolves once every device is connected and online; rejects, naming the broker, if any cannot be. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  validate(options)
  const profile = options.profile ?? localProfile(options.brokerUrl as string)
  const { rateHz, anomalyChance = DEFAULT_ANOMALY_CHANCE, idPrefix = 'esp32-' } = options
  const onError = options.onError ?? (() => {})
  const seed = options.seed ?? randomInt(2 ** 32)
  const random = new Random(seed)
  const devices = Array.from(
    { length: options.devices },
    (_, i) =>
      new SimDevice({ deviceId: `${idPrefix}${String(i + 1).padStart(4, '0')}`, seed: seedFor(seed, i) }),
  )
  const faults = typeof options.faults === 'string' ? parseFaults(options.faults) : (options.faults ?? [])
  const deviceIds = devices.map((device) => device.deviceId)
  // Seeded apart from the devices' own streams, so adding faults leaves the clean readings unchanged.
  const injectors = faults.length
    ? deviceIds.map(
        (deviceId, i) =>
          new FaultInjector(faults, { deviceId, seed: seedFor(seed ^ FAULT_SEED, i), peers: deviceIds }),
      )
    : []
  const counts = { published: 0, acked: 0, failed: 0, dropped: 0, commands: 0, ignoredCommands: 0 }
  const latency = new LatencyHistogram()

  const receive = (device: SimDevice) => (payload: Buffer) => {
    counts.commands++
    const command = parseCommand(payload, device.deviceId)
    if (!command || device.handleCommand(command) !== 'applied') counts.ignoredCommands++
  }

  const links: DeviceLink[] = []
  try {
    for (let i = 0; i < devices.length; i += CONNECT_BATCH) {
      const batch = devices.slice(i, i + CONNECT_BATCH)
      const results = await Promise.allSettled(
        batch.map((device) =>
          connectDevice({
            profile,
            deviceId: device.deviceId,
            boot: device.boot,
            fw: device.fw,
            connectTimeoutMs: CONNECT_TIMEOUT_MS,
            reconnectPeriodMs: Math.round(random.uniform(...RECONNECT_PERIOD_MS)),
            onCommand: receive(device),
            onError,
          }),
        ),
      )
      for (const result of results) if (result.status === 'fulfilled') links.push(result.value)
      const failure = results.find((result) => result.status === 'rejected')
      if (failure) throw failure.reason
    }
  } catch (error) {
    await Promise.all(links.map((link) => link.close(STOP_TIMEOUT_MS)))
    throw error
  }

  const scheduler = new FleetScheduler(
    devices,
    { rateHz, anomalyChance, random, start: Date.now() },
    (index, reading) => {
      // Drawn whether or not the device is connected, so a seed gives the same faults either way.
      const outgoing = injectors[index]?.apply(reading) ?? [reading]
      const link = links[index]
      if (!link?.connected) {
        counts.dropped++
        return
      }
      for (const payload of outgoing) {
        counts.published++
        const sent = performance.now()
        link.publishTelemetry(payload, (error) => {
          if (!error) {
            counts.acked++
            latency.record(performance.now() - sent)
            return
          }
          counts.failed++
          onError(new Error(`${reading.deviceId} seq ${reading.seq}: ${error.message}`, { cause: error }))
        })
      }
    },
  )
  const timer = setInterval(() => {
    try {
      scheduler.tick(Date.now())
    } catch (error) {
      onError(error instanceof Error ? error : new Error(String(error)))
    }
  }, scheduler.tickMs)

  const stop = async () => {
    clearInterval(timer)
    await until(() => counts.published === counts.acked + counts.failed, STOP_TIMEOUT_MS)
    for (const device of devices) device.endEpisode('stop')
    await Promise.all(links.map((link) => link.close(STOP_TIMEOUT_MS)))
  }
  let stopping: Promise<void> | undefined

  return {
    deviceIds,
    stats: () => ({
      devices: devices.length,
      connected: links.filter((link) => link.connected).length,
      ...counts,
      episodes: scheduler.episodes,
      ackLatencyMs: { p50: latency.quantile(0.5) ?? null, p99: latency.quantile(0.99) ?? null },
    }),
    labels: () => [
      ...devices.flatMap((device) => device.labels()),
      ...injectors.flatMap((injector) => injector.labels()),
    ],
    stop: () => {
      stopping ??= stop()
      return stopping
    },
  }
}

function validate(options: FleetOptions): void {
  const { profile, brokerUrl, devices, rateHz, anomalyChance, seed } = options
  if (!profile && (typeof brokerUrl !== 'string' || brokerUrl === '')) {
    throw new ConfigError('a profile or a brokerUrl is required')
  }
  if (!Number.isInteger(devices) || devices < 0) {
    throw new ConfigError(`devices must be a whole number ≥ 0, got ${devices}`)
  }
  if (!Number.isFinite(rateHz) || rateHz <= 0) throw new ConfigError(`rateHz must be above 0, got ${rateHz}`)
  if (anomalyChance !== undefined && !(anomalyChance >= 0 && anomalyChance <= 1)) {
    throw new ConfigError(`anomalyChance is a probability from 0 to 1, got ${anomalyChance}`)
  }
  if (seed !== undefined && !Number.isInteger(seed))
    throw new ConfigError(`seed must be an integer, got ${seed}`)
}

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
}
