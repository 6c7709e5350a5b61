/**
 * A simulated fleet: many devices, each with its own MQTT session, all driven by one timer: the
 * scheduler takes readings, and the same tick services every session (pings, timeouts, outbox
 * expiry) and lets reconnects through at a bounded rate.
 */
import { randomInt } from 'node:crypto'
import { ConfigError, type TelemetryInput } from '@fleetpipe/core'
import { type ClockOptions, DeviceClock } from './clock.ts'
import { type Label, SimDevice } from './device.ts'
import { DEVICE_TYPE_INFO, type DeviceType, deviceIdFor, type FleetMix, fleetMix } from './device-types.ts'
import { chooseShare, FaultInjector, type FaultRule, type Outgoing, parseFaults } from './faults.ts'
import { LatencyHistogram } from './latency.ts'
import type { OutboxEntry, OutboxOptions } from './outbox.ts'
import { DEFAULT_OUTBOX } from './outbox.ts'
import { type ConnectionProfile, localProfile } from './profiles.ts'
import { Random, seedFor } from './random.ts'
import { FleetScheduler } from './scheduler.ts'
import { DeviceSession, type MessageTag } from './session.ts'
import { parseCommand } from './transport.ts'

export interface FleetOptions {
  /** Where and how devices connect; without it, the local profile on `brokerUrl`. */
  profile?: ConnectionProfile
  brokerUrl?: string
  devices: number
  rateHz: number
  /** Same seed, same devices, boot ids, sensor noise, faults and clocks. */
  seed?: number
  idPrefix?: string
  /** Probability per device per second that an overheat episode starts; 0 turns anomalies off. */
  anomalyChance?: number
  /** Faults to inject, as a spec (`spike:0.01,dropout:0.001@esp32-00*`) or parsed rules. */
  faults?: string | readonly FaultRule[]
  /** Errors after start: lost connections, failed publishes. They never stop the fleet. */
  onError?: (error: Error) => void
  /** Sees each reading as the device sends it (after any fault), once: what `--export-dataset` keeps. */
  onReading?: (reading: TelemetryInput) => void
  /** Device types and their shares, `motor:80,env:20`; all motor nodes by default. */
  types?: string | FleetMix
  /** Readings per message: above 1, a device sends a `readings` batch when it has this many. */
  batch?: number
  /**
   * Deep-sleep duty cycle: a device wakes when it has a message to send, connects, publishes,
   * waits for the acknowledgements and drops the connection without DISCONNECT (the will fires).
   */
  sleep?: boolean
  /** The QoS 1 outbox: its byte limit and how long an entry may wait. */
  outbox?: Partial<OutboxOptions>
  keepaliveS?: number
  /** New connections per second the fleet opens at most (start-up and reconnects alike). */
  connectRate?: number
  clock?: ClockOptions
}

export interface FleetStats {
  devices: number
  connected: number
  /** Telemetry messages handed to MQTT (queued in the outbox). */
  published: number
  acked: number
  /** Published but never acknowledged: expired in the outbox, lost in a reboot, or left at stop. */
  failed: number
  /** Readings never published: refused by a full outbox, or buffered in a batch lost to a reboot. */
  dropped: number
  /** Messages received on command topics. */
  commands: number
  /** Commands not acted on: unknown, malformed, addressed to another device, repeated or rejected. */
  ignoredCommands: number
  /** Overheat episodes started. */
  episodes: number
  /** From publish to the broker's PUBACK, as the client sees it; null before the first ack. */
  ackLatencyMs: { p50: number | null; p99: number | null; p90?: number | null; max?: number | null }
  /** Readings taken (before faults: a dropout takes a reading and sends nothing). */
  readings?: number
  /** How late readings were taken after their slot: the scheduler's tick jitter. */
  tickJitterMs?: { p50: number | null; p99: number | null; max: number | null }
  /** Telemetry messages that expired in an outbox (also counted in `failed`). */
  expired?: number
  /** Publishes written again after a reconnect, with the DUP flag. */
  replayed?: number
  /** Successful reconnects after a connection was lost. */
  reconnects?: number
  /** Command acknowledgements published. */
  commandAcks?: number
  /** Telemetry messages now waiting in outboxes for a PUBACK. */
  inFlight?: number
  /** Devices asleep (duty cycle) or rebooting. */
  asleep?: number
}

/** Counts since the previous `window()` call, for a per-second report. */
export interface FleetWindow {
  published: number
  acked: number
  failed: number
  connected: number
  tickJitterP99Ms: number | null
  ackLatencyP99Ms: number | null
}

export interface Fleet {
  stats(): FleetStats
  /** Counts and percentiles since the last call (the first call: since start). */
  window(): FleetWindow
  deviceIds: string[]
  /** Each device's type, by id. */
  types: Record<string, DeviceType>
  /**
   * Ground truth: overheat episodes that have ended (`stop()` ends the rest), then injected faults
   * (one still under way has its `endTs` so far).
   */
  labels(): Label[]
  /** The sessions, for tests that cut connections. */
  sessions: readonly DeviceSession[]
  stop(): Promise<void>
}

export const DEFAULT_ANOMALY_CHANCE = 0.002
/** Shared by every single-reading message: one object, not one per publish. */
const ONE_READING: MessageTag = Object.freeze({ kind: 'telemetry', readings: 1 })
const STOP_TIMEOUT_MS = 5_000
const CONNECT_TIMEOUT_MS = 5_000
/** Connections at once in the handshake: Mosquitto's listen backlog is 100. */
const CONNECTING_AT_ONCE = 100
const DEFAULT_CONNECT_RATE = 5_000
/** How often every session is serviced; the scheduler ticks faster. */
const SERVICE_MS = 100
/** A firmware acknowledges, then restarts; it is back on the network after booting. */
const REBOOT_AFTER_MS = 200
const BOOT_MS = 1_500
const FAULT_SEED = 0xfa017
const TYPE_SEED = 0x7e9e5
const CLOCK_SEED = 0xc10c
const SESSION_SEED = 0x5e55

/** Resolves once every device is connected and online; rejects, naming the broker, if any cannot be. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  validate(options)
  const profile = options.profile ?? localProfile(options.brokerUrl as string)
  checkTransport(profile)
  const { rateHz, anomalyChance = DEFAULT_ANOMALY_CHANCE, idPrefix = 'esp32-' } = options
  const batch = options.batch ?? 1
  const sleepMode = options.sleep ?? false
  const onError = options.onError ?? (() => {})
  const seed = options.seed ?? randomInt(2 ** 32)
  const random = new Random(seed)
  const mix = typeof options.types === 'object' ? options.types : fleetMix(options.types, options.devices)
  const devices: SimDevice[] = []
  for (const { type, count } of mix) {
    for (let n = 0; n < count; n++) {
      // Motor nodes keep the seeds they always had, so existing runs replay unchanged.
      const deviceSeed = type === 'motor' ? seedFor(seed, n) : seedFor(seed ^ TYPE_SEED, devices.length)
      devices.push(new SimDevice({ deviceId: deviceIdFor(idPrefix, type, n + 1), seed: deviceSeed, type }))
    }
  }
  const deviceIds = devices.map((device) => device.deviceId)
  const faults = typeof options.faults === 'string' ? parseFaults(options.faults) : (options.faults ?? [])
  const chosen = faults.map((rule, r) => chooseShare(deviceIds, rule, seedFor(seed ^ FAULT_SEED, -1 - r)))
  const started = Date.now()
  // Seeded apart from the devices' own streams, so adding faults leaves the clean readings unchanged.
  const injectors = faults.length
    ? devices.map(
        (device, i) =>
          new FaultInjector(
            faults.filter((_, r) => chosen[r]?.has(device.deviceId)),
            {
              deviceId: device.deviceId,
              seed: seedFor(seed ^ FAULT_SEED, i),
              peers: deviceIds,
              metric: DEVICE_TYPE_INFO[device.type].faultMetric,
              start: started,
            },
          ),
      )
    : []
  const clocks = devices.map(
    (_, i) => new DeviceClock(new Random(seedFor(seed ^ CLOCK_SEED, i)), options.clock),
  )
  const batches: (TelemetryInput[] | undefined)[] = []
  /** Until when a rebooting device is off the network (0: not rebooting). */
  const bootUntil = new Float64Array(devices.length)

  const counts = {
    published: 0,
    acked: 0,
    failed: 0,
    dropped: 0,
    commands: 0,
    ignoredCommands: 0,
    readings: 0,
    expired: 0,
    replayed: 0,
    reconnects: 0,
    commandAcks: 0,
  }
  const latency = new LatencyHistogram()
  const jitter = new LatencyHistogram()
  const recentLatency = new LatencyHistogram()
  const recentJitter = new LatencyHistogram()

  // Start-up: resolved when every session is ready, rejected by the first that cannot connect.
  let ready = 0
  /** Connections accepted so far: once the broker has let one in, it is reachable. */
  let online = 0
  let starting: { resolve: () => void; reject: (error: Error) => void } | undefined
  const startup = new Promise<void>((resolve, reject) => {
    starting = { resolve, reject }
  })

  const connectQueue: number[] = []
  const queued = new Uint8Array(devices.length)
  let connecting = 0
  let tokens = CONNECTING_AT_ONCE
  const connectRate = options.connectRate ?? DEFAULT_CONNECT_RATE
  let lastPump = Date.now()
  const enqueue = (i: number) => {
    if (queued[i]) return
    queued[i] = 1
    connectQueue.push(i)
  }
  const pump = (now: number) => {
    tokens = Math.min(CONNECTING_AT_ONCE, tokens + ((now - lastPump) * connectRate) / 1_000)
    lastPump = now
    while (connectQueue.length > 0 && connecting < CONNECTING_AT_ONCE && tokens >= 1) {
      const i = connectQueue.shift() as number
      queued[i] = 0
      const session = sessions[i] as DeviceSession
      if (session.state !== 'waiting' && session.state !== 'asleep') continue
      tokens--
      connecting++
      inHandshake[i] = 1
      session.connect(now)
    }
  }
  const inHandshake = new Uint8Array(devices.length)
  const handshakeOver = (i: number) => {
    if (!inHandshake[i]) return
    inHandshake[i] = 0
    connecting--
  }

  const sendTelemetry = (i: number, payload: string, readings: number) => {
    const tag = readings === 1 ? ONE_READING : { kind: 'telemetry' as const, readings }
    const entry = (sessions[i] as DeviceSession).publish(payload, tag)
    if (entry) counts.published++
    else counts.dropped += readings
    return entry
  }
  const flushBatch = (i: number) => {
    const list = batches[i]
    if (!list || list.length === 0) return
    batches[i] = undefined
    const device = devices[i] as SimDevice
    const body = {
      v: 1,
      deviceId: device.deviceId,
      boot: device.boot,
      fw: device.fw,
      readings: list.map(({ ts, seq, metrics }) => ({ ts, seq, metrics })),
    }
    sendTelemetry(i, JSON.stringify(body), list.length)
  }
  const wake = (i: number) => {
    const session = sessions[i] as DeviceSession
    if (session.state === 'asleep' && bootUntil[i] === 0 && session.outbox.size > 0) {
      session.restart()
      enqueue(i)
    }
  }

  const emit = (i: number, reading: TelemetryInput, lateMs: number) => {
    counts.readings++
    jitter.record(lateMs)
    recentJitter.record(lateMs)
    // Drawn whether or not the device is connected, so a seed gives the same faults either way.
    const outgoing: Outgoing[] = injectors[i]?.apply(reading) ?? [reading]
    if (options.onReading) {
      const sent = outgoing.find(
        (p): p is TelemetryInput => typeof p === 'object' && p.deviceId === reading.deviceId,
      )
      if (sent) options.onReading(sent)
    }
    for (const payload of outgoing) {
      if (batch > 1 && typeof payload === 'object' && payload.deviceId === reading.deviceId) {
        const list = batches[i] ?? []
        batches[i] = list
        list.push(payload)
        if (list.length >= batch) flushBatch(i)
      } else {
        sendTelemetry(i, typeof payload === 'string' ? payload : JSON.stringify(payload), 1)
      }
    }
    if (sleepMode) wake(i)
  }

  const command = (i: number, payload: Buffer) => {
    counts.commands++
    const device = devices[i] as SimDevice
    const session = sessions[i] as DeviceSession
    const parsed = parseCommand(payload, device.deviceId)
    if (!parsed) {
      counts.ignoredCommands++
      return
    }
    const outcome = device.handleCommand(parsed)
    if (outcome !== 'applied') counts.ignoredCommands++
    const now = Date.now()
    const { ackTopic } = session.endpoint
    if (ackTopic) {
      const ack = {
        v: 1,
        deviceId: device.deviceId,
        id: parsed.id,
        command: parsed.command,
        outcome,
        ts: (clocks[i] as DeviceClock).read(now),
        boot: device.boot,
      }
      const entry = session.publish(
        JSON.stringify(ack),
        { kind: 'ack', readings: 0 },
        { topic: ackTopicBuffer(ackTopic) },
      )
      if (entry) counts.commandAcks++
    }
    if (outcome !== 'applied') return
    if (parsed.command === 'set-interval' && device.intervalMs !== undefined) {
      scheduler?.setPeriod(i, device.intervalMs, now)
    } else if (parsed.command === 'reboot') {
      reboots.push({ i, at: now + REBOOT_AFTER_MS })
    }
  }
  const reboots: { i: number; at: number }[] = []
  const reboot = (i: number, now: number) => {
    const session = sessions[i] as DeviceSession
    // RAM is gone: what waited in the outbox or a batch is lost, as on the device.
    for (const entry of session.outbox.clear()) lost(entry)
    counts.dropped += batches[i]?.length ?? 0
    batches[i] = undefined
    session.drop('asleep')
    ;(devices[i] as SimDevice).reboot()
    ;(clocks[i] as DeviceClock).reset()
    bootUntil[i] = now + BOOT_MS
  }
  const lost = (entry: OutboxEntry<MessageTag>) => {
    if (entry.tag.kind === 'telemetry') counts.failed++
  }

  const sessions: DeviceSession[] = devices.map((device, i) => {
    const clock = clocks[i] as DeviceClock
    const status = (state: 'online' | 'offline', ts?: number) =>
      JSON.stringify({
        v: 1,
        deviceId: device.deviceId,
        state,
        ...(ts === undefined ? {} : { ts: clock.read(ts) ?? ts }),
        boot: device.boot,
        fw: device.fw,
      })
    return new DeviceSession({
      endpoint: profile.endpoint(device.deviceId),
      random: new Random(seedFor(seed ^ SESSION_SEED, i)),
      status,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      ...(options.keepaliveS ? { keepaliveS: options.keepaliveS } : {}),
      outbox: { ...DEFAULT_OUTBOX, ...options.outbox },
      events: {
        online(session) {
          handshakeOver(i)
          online++
          if (session.everOnline) counts.reconnects++
          // SNTP before the first publish: the clock is set on every (re)connect, as after a wake.
          clock.sync(Date.now())
        },
        ready() {
          if (++ready === devices.length) starting?.resolve()
        },
        message(topic, payload) {
          const session = sessions[i] as DeviceSession
          if (session.endpoint.isCommand(topic)) command(i, payload)
        },
        acked(entry, latencyMs) {
          if (entry.resent) counts.replayed++
          if (entry.tag.kind !== 'telemetry') return
          counts.acked++
          latency.record(latencyMs)
          recentLatency.record(latencyMs)
          const session = sessions[i] as DeviceSession
          if (sleepMode && session.idle && ready >= devices.length) session.drop('asleep')
        },
        expired(entry) {
          if (entry.tag.kind !== 'telemetry') return
          counts.expired++
          counts.failed++
        },
        down(error, wasOnline) {
          handshakeOver(i)
          const session = sessions[i] as DeviceSession
          // At start-up, an unreachable broker or a refusal fails the fleet; a slow broker that lets
          // others in only delays this device, which retries after its backoff as firmware does.
          const fatal = online === 0 || error.message.startsWith('broker refused')
          if (!session.everOnline && starting && ready < devices.length && fatal) {
            const what = `${device.deviceId} cannot connect to the MQTT broker at ${profile.broker}`
            starting.reject(new Error(`${what}: ${error.message}`, { cause: error }))
            return
          }
          if (wasOnline)
            onError(new Error(`${device.deviceId}: connection lost: ${error.message}`, { cause: error }))
        },
      },
    })
  })
  for (let i = 0; i < sessions.length; i++) enqueue(i)
  if (devices.length === 0) starting?.resolve()

  let scheduler: FleetScheduler | undefined
  let stopping = false
  let lastService = 0
  const service = (now: number) => {
    for (let r = reboots.length - 1; r >= 0; r--) {
      const due = reboots[r] as { i: number; at: number }
      if (now < due.at) continue
      reboots.splice(r, 1)
      reboot(due.i, now)
    }
    for (let i = 0; i < sessions.length; i++) {
      const session = sessions[i] as DeviceSession
      session.service(now)
      const booted = bootUntil[i] as number
      if (booted > 0 && now >= booted) {
        bootUntil[i] = 0
        session.restart(now)
      }
      if (session.wantsConnect(now)) enqueue(i)
      const clock = clocks[i] as DeviceClock
      if (session.online && clock.due(now)) clock.sync(now)
    }
  }
  const timer = setInterval(
    () => {
      const now = Date.now()
      try {
        if (scheduler && !stopping) scheduler.tick(now)
        if (now - lastService >= SERVICE_MS) {
          lastService = now
          service(now)
        }
        pump(now)
      } catch (error) {
        onError(error instanceof Error ? error : new Error(String(error)))
      }
    },
    Math.min(10, Math.max(1, 1000 / rateHz / 20)),
  )
  pump(Date.now())

  try {
    await startup
    starting = undefined
  } catch (error) {
    clearInterval(timer)
    for (const session of sessions) session.drop('closed')
    throw error
  }

  scheduler = new FleetScheduler(
    devices,
    {
      rateHz,
      anomalyChance,
      random,
      start: Date.now(),
      clock: (i, now) => (bootUntil[i] ? undefined : (clocks[i] as DeviceClock).read(now)),
    },
    emit,
  )
  // In a duty cycle, the device sleeps from the moment it is up until it has something to send.
  if (sleepMode) for (const session of sessions) if (session.idle) session.drop('asleep')

  const inFlight = () => counts.published - counts.acked - counts.failed
  const stop = async () => {
    stopping = true
    for (let i = 0; i < devices.length; i++) {
      flushBatch(i)
      if (sleepMode) wake(i)
    }
    // Sessions keep being serviced (and reconnect) while the last acknowledgements come in.
    await until(() => inFlight() <= 0, STOP_TIMEOUT_MS)
    for (const device of devices) device.endEpisode('stop')
    await Promise.all(sessions.map((session) => session.close(STOP_TIMEOUT_MS)))
    clearInterval(timer)
    // What never got its PUBACK is lost now.
    for (const session of sessions) for (const entry of session.outbox.clear()) lost(entry)
  }
  let stopping$: Promise<void> | undefined
  let window = { published: 0, acked: 0, failed: 0 }

  const connected = () => {
    let n = 0
    for (const session of sessions) if (session.online) n++
    return n
  }
  const q = (h: LatencyHistogram, p: number) => h.quantile(p) ?? null
  return {
    deviceIds,
    types: Object.fromEntries(devices.map((device) => [device.deviceId, device.type])),
    sessions,
    stats: () => ({
      devices: devices.length,
      connected: connected(),
      published: counts.published,
      acked: counts.acked,
      failed: counts.failed,
      dropped: counts.dropped,
      commands: counts.commands,
      ignoredCommands: counts.ignoredCommands,
      episodes: scheduler?.episodes ?? 0,
      ackLatencyMs: {
        p50: q(latency, 0.5),
        p90: q(latency, 0.9),
        p99: q(latency, 0.99),
        max: latency.max ?? null,
      },
      readings: counts.readings,
      tickJitterMs: { p50: q(jitter, 0.5), p99: q(jitter, 0.99), max: jitter.max ?? null },
      expired: counts.expired,
      replayed: counts.replayed,
      reconnects: counts.reconnects,
      commandAcks: counts.commandAcks,
      inFlight: inFlight(),
      asleep: sessions.filter((session) => session.state === 'asleep').length,
    }),
    window: () => {
      const now = { published: counts.published, acked: counts.acked, failed: counts.failed }
      const result: FleetWindow = {
        published: now.published - window.published,
        acked: now.acked - window.acked,
        failed: now.failed - window.failed,
        connected: connected(),
        tickJitterP99Ms: q(recentJitter, 0.99),
        ackLatencyP99Ms: q(recentLatency, 0.99),
      }
      window = now
      recentJitter.reset()
      recentLatency.reset()
      return result
    },
    labels: () => [
      ...devices.flatMap((device) => device.labels()),
      ...injectors.flatMap((injector) => injector.labels()),
    ],
    stop: () => {
      stopping$ ??= stop()
      return stopping$
    },
  }
}

const ackTopics = new Map<string, Buffer>()
/** Encoded once per device: an ack is rare, but a topic string per ack is needless garbage. */
function ackTopicBuffer(topic: string): Buffer {
  let buffer = ackTopics.get(topic)
  if (!buffer) {
    buffer = Buffer.from(topic)
    ackTopics.set(topic, buffer)
  }
  return buffer
}

function validate(options: FleetOptions): void {
  const { profile, brokerUrl, devices, rateHz, anomalyChance, seed, batch } = options
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
  if (batch !== undefined && !(Number.isInteger(batch) && batch >= 1 && batch <= 500)) {
    throw new ConfigError(`batch is 1 to 500 readings per message, got ${batch}`)
  }
}

/** The sessions speak MQTT over TCP or TLS; a WebSocket broker needs a real client. */
function checkTransport(profile: ConnectionProfile): void {
  const url = profile.endpoint('probe').url
  const protocol = new URL(url).protocol
  if (!['mqtt:', 'tcp:', 'mqtts:', 'ssl:'].includes(protocol)) {
    throw new ConfigError(
      `the simulated fleet connects over mqtt:// or mqtts://, not ${protocol}// (${profile.broker})`,
    )
  }
}

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
}
