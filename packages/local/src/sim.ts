/**
 * `fleetpipe sim`: only the simulated fleet, against a broker of your choosing (the local stack,
 * AWS IoT Core or Azure IoT Hub), with a per-second status line and a summary to check a run by.
 * Its settings have their own schema: dev's store and bridge settings mean nothing here.
 */
import { ConfigError, type TelemetryInput } from '@fleetpipe/core'
import {
  awsProfile,
  azureProfile,
  type ConnectionProfile,
  countFaults,
  type FaultKind,
  type FleetStats,
  type FleetWindow,
  fleetMix,
  localProfile,
  PROFILE_NAMES,
  parseFaults,
  startFleet,
} from '@fleetpipe/firmware-sim'
import { labeler, writeDatasetFile } from '@fleetpipe/retrain'
import * as z from 'zod'
import type { Io } from './dev.ts'

const flag = z
  .union([z.boolean(), z.enum(['1', '0', 'true', 'false'])])
  .transform((v) => v === true || v === '1' || v === 'true')
const text = z.string().min(1)

export const SimConfigSchema = z.object({
  /** Required: sim starts no broker of its own. */
  broker: text,
  profile: z.enum(PROFILE_NAMES).default('local'),
  devices: z.coerce.number().int().min(1).max(100_000).default(10),
  rate: z.coerce.number().positive().max(100).default(1),
  /** Seconds to run; without it, until Ctrl-C. */
  duration: z.coerce.number().positive().optional(),
  seed: z.coerce.number().int().default(1),
  /** Device ids are `{idPrefix}0001`…: on a cloud they must be registered devices or things. */
  idPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{0,59}$/, 'letters, digits and . _ : - only')
    .default('esp32-'),
  /** Fault spec, `kind:probability[@device-glob],…`: checked here so a typo fails before connecting. */
  faults: z
    .string()
    .optional()
    .superRefine((spec, ctx) => {
      try {
        if (spec) parseFaults(spec)
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message })
      }
    }),
  /** Device types and their shares, `motor:80,env:20`: checked here, like the fault spec. */
  types: z
    .string()
    .optional()
    .superRefine((spec, ctx) => {
      try {
        if (spec) fleetMix(spec, 1)
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message })
      }
    }),
  /** Readings per message (the wire format's batch); 1 sends each reading on its own. */
  batch: z.coerce.number().int().min(1).max(500).default(1),
  /** Deep-sleep duty cycle: connect, publish, drop without DISCONNECT, every time. */
  sleep: flag.default(false),
  /** The QoS 1 outbox per device, in KB, and how long an entry waits for its PUBACK, in seconds. */
  outboxKb: z.coerce.number().positive().max(1_024).default(32),
  outboxExpiry: z.coerce.number().positive().max(3_600).default(30),
  /** Writes what the fleet published, labeled by its anomalies and faults, for `fleetpipe retrain`. */
  exportDataset: text.regex(/\.(ndjson|jsonl|csv)$/i, 'name the dataset .ndjson, .jsonl or .csv').optional(),
  cert: text.optional(),
  key: text.optional(),
  ca: text.optional(),
  deviceKey: text.optional(),
  hubKey: text.optional(),
  hubKeyName: text.optional(),
  json: flag.default(false),
})

export type SimConfig = z.infer<typeof SimConfigSchema>
type Key = keyof SimConfig

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
const envName = (key: string) => `FLEETPIPE_${kebab(key).replaceAll('-', '_').toUpperCase()}`

/** Flags (keyed by their kebab-case names, as `parseArgs` gives them) over FLEETPIPE_* over defaults. */
export function loadSimConfig(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): SimConfig {
  const input: Record<string, unknown> = {}
  for (const key of Object.keys(SimConfigSchema.shape) as Key[]) {
    const value = flags[kebab(key)] ?? env[envName(key)]
    if (value !== undefined && value !== '') input[key] = value
  }
  const parsed = SimConfigSchema.safeParse(input)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0])
    const message =
      key === 'broker' && issue.code === 'invalid_type' ? 'required: the broker to publish to' : issue.message
    return `--${kebab(key)} (${envName(key)}): ${message}`
  })
  throw new ConfigError(`bad configuration\n  ${problems.join('\n  ')}`)
}

/** The flags `parseArgs` should know for sim. */
export function simFlags(): Record<string, { type: 'string' | 'boolean' }> {
  return Object.fromEntries(
    Object.keys(SimConfigSchema.shape).map((key) => [
      kebab(key),
      { type: key === 'json' || key === 'sleep' ? 'boolean' : 'string' },
    ]),
  )
}

/** The profile the configuration names, with its credentials read and checked. */
export function profileOf(config: SimConfig): ConnectionProfile {
  const { broker: brokerUrl } = config
  switch (config.profile) {
    case 'local':
      return localProfile(brokerUrl)
    case 'aws':
      return awsProfile({ brokerUrl, cert: config.cert, key: config.key, ca: config.ca })
    case 'azure':
      return azureProfile({
        brokerUrl,
        deviceKey: config.deviceKey,
        hubKey: config.hubKey,
        hubKeyName: config.hubKeyName,
      })
  }
}

export interface SimSummary {
  profile: string
  broker: string
  devices: number
  seconds: number
  published: number
  acknowledged: number
  failed: number
  /** Readings taken while a device was offline, never sent. */
  dropped: number
  ackLatencyMs: FleetStats['ackLatencyMs']
  /** Injected faults by kind, from the fleet's labels; every kind the spec names appears. */
  faults: Partial<Record<FaultKind, number>>
  /** How late readings were taken after their slot. */
  tickJitterMs?: FleetStats['tickJitterMs']
  readings?: number
  expired?: number
  reconnects?: number
  replayed?: number
  commands?: number
  commandAcks?: number
  /** Devices by type. */
  types?: Record<string, number>
  /** This process's resident memory at the end of the run, and per device. */
  rssMb?: number
  rssPerDeviceKb?: number
  /** What `--export-dataset` wrote. */
  dataset?: { file: string; rows: number; anomalies: number }
  /** One entry per second of the run. */
  perSecond?: (FleetWindow & { t: number })[]
}

/** Runs the fleet until `--duration` or `stop`, then stops it cleanly and sums up. */
export async function runSim(config: SimConfig, io: Io, stop: Promise<void>): Promise<SimSummary> {
  const profile = profileOf(config)
  const started = Date.now()
  io.err(
    `sim     ${config.devices} devices at ${config.rate} Hz → ${profile.broker} (${profile.name} profile)`,
  )
  let errors = 0
  const exported: TelemetryInput[] = []
  const fleet = await startFleet({
    profile,
    devices: config.devices,
    rateHz: config.rate,
    seed: config.seed,
    idPrefix: config.idPrefix,
    ...(config.faults ? { faults: config.faults } : {}),
    ...(config.types ? { types: config.types } : {}),
    batch: config.batch,
    sleep: config.sleep,
    outbox: { limitBytes: config.outboxKb * 1024, expiryMs: config.outboxExpiry * 1_000 },
    // Kept in memory until the labels are known, at the end: bounded by devices × rate × duration.
    ...(config.exportDataset ? { onReading: (reading: TelemetryInput) => void exported.push(reading) } : {}),
    onError: (error) => {
      // A broker in trouble fails every publish: say the first few, count the rest.
      if (++errors <= 10) io.err(`fleet: ${error.message}`)
    },
  }).catch((error: unknown) => {
    // Said as a usage error, without a stack: the fix is almost always in the flags.
    const hint = `check --broker and the ${profile.name} profile's credentials`
    throw new ConfigError(`${(error as Error).message}\n  ${hint}`, { cause: error })
  })
  io.err(`        all ${config.devices} connected in ${Date.now() - started} ms`)

  const running = Date.now()
  const perSecond: (FleetWindow & { t: number })[] = []
  fleet.window()
  const ticker = setInterval(() => {
    const window = fleet.window()
    const elapsed = (Date.now() - running) / 1000
    perSecond.push({ t: Math.round(elapsed), ...window })
    io.status?.(windowLine(window, fleet.deviceIds.length, elapsed, config.duration))
  }, 1_000)
  // Cleared when Ctrl-C comes first, or the process would linger until the duration is up.
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    if (config.duration) timer = setTimeout(resolve, config.duration * 1_000)
  })
  await Promise.race([stop, timeout])
  clearTimeout(timer)
  clearInterval(ticker)

  io.err('stopping: waiting for the last acknowledgements')
  await fleet.stop()
  const stats = fleet.stats()
  const rss = process.memoryUsage().rss
  if (errors > 10) io.err(`fleet: ${errors - 10} more errors`)
  let dataset: SimSummary['dataset']
  if (config.exportDataset) {
    const label = labeler(fleet.labels())
    const written = await writeDatasetFile(
      config.exportDataset,
      exported.map((reading) => ({ reading, label: label(reading) })),
    )
    dataset = { file: config.exportDataset, ...written }
    io.err(`dataset ${written.rows} readings (${written.anomalies} anomalous) → ${config.exportDataset}`)
  }
  const types: Record<string, number> = {}
  for (const type of Object.values(fleet.types)) types[type] = (types[type] ?? 0) + 1
  return {
    profile: profile.name,
    broker: profile.broker,
    devices: stats.devices,
    seconds: Math.round((Date.now() - running) / 100) / 10,
    published: stats.published,
    acknowledged: stats.acked,
    failed: stats.failed,
    dropped: stats.dropped,
    ackLatencyMs: stats.ackLatencyMs,
    faults: countFaults(
      fleet.labels(),
      parseFaults(config.faults ?? '').map((rule) => rule.kind),
    ),
    tickJitterMs: stats.tickJitterMs,
    readings: stats.readings,
    expired: stats.expired,
    reconnects: stats.reconnects,
    replayed: stats.replayed,
    commands: stats.commands,
    commandAcks: stats.commandAcks,
    types,
    ...(dataset ? { dataset } : {}),
    rssMb: Math.round(rss / 1024 / 1024),
    rssPerDeviceKb: Math.round((rss / Math.max(1, stats.devices) / 1024) * 10) / 10,
    perSecond,
  }
}

/** The last second: rates, connected devices, tick jitter and ack latency, and progress. */
export function windowLine(window: FleetWindow, devices: number, elapsed: number, duration?: number): string {
  const progress = duration ? ` · ${Math.min(Math.round(elapsed), duration)}/${duration} s` : ''
  const ms = (n: number | null) => (n === null ? '–' : `${Math.round(n)} ms`)
  return (
    `${window.connected}/${devices} connected · ${window.published} published/s · ` +
    `${window.acked} acked/s · ${window.failed} failed/s · jitter p99 ${ms(window.tickJitterP99Ms)} · ` +
    `ack p99 ${ms(window.ackLatencyP99Ms)}${progress}`
  )
}

/** Rates over the last second, connected devices, and progress through a timed run. */
export function statusLine(now: FleetStats, last: FleetStats, elapsed: number, duration?: number): string {
  const progress = duration ? ` · ${Math.min(Math.round(elapsed), duration)}/${duration} s` : ''
  return (
    `${now.connected}/${now.devices} connected · ${now.published - last.published} published/s · ` +
    `${now.acked - last.acked} acked/s · ${now.failed - last.failed} failed/s${progress}`
  )
}
