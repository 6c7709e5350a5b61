/**
 * Configuration, read once at the edge: CLI flags over FLEETPIPE_* environment variables over
 * defaults, through one zod schema. A bad value is an error naming the flag and the variable.
 */
import { ConfigError, DEFAULT_MAX_AGE_MS, parseDuration } from '@fleetpipe/core'
import * as z from 'zod'
import { CLOUDS } from './cloud-ingest.ts'

const port = z.coerce.number().int().min(0).max(65_535)
const positive = z.coerce.number().positive()
const flag = z
  .union([z.boolean(), z.enum(['1', '0', 'true', 'false'])])
  .transform((v) => v === true || v === '1' || v === 'true')

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol)
      } catch {
        return false
      }
    },
    `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  )

/** A duration: milliseconds, or a number with s, m, h or d. */
const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDuration(String(value))
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 90s, 15m, 7d or a number of ms' })
    return z.NEVER
  }
  return ms
})

export const DEV_FAULTS =
  'spike:20s@esp32-0002,stuck:40s@esp32-0003,drift:60s@esp32-0004,dropout:90s+45s@esp32-0005'

export const ConfigSchema = z.object({
  /** An external broker (e.g. Mosquitto); without it fleetpipe starts its own. */
  broker: url(['mqtt:', 'mqtts:', 'tcp:']).optional(),
  brokerPort: port.default(1883),
  /** PostgreSQL / TimescaleDB; without it the embedded PGlite store in `dataDir`. */
  database: url(['postgres:', 'postgresql:']).optional(),
  dataDir: z.string().min(1).default('.fleetpipe/data'),
  /** Where the embedded database is served over the PostgreSQL protocol while `dev` runs. */
  dbPort: port.default(5433),
  devices: z.coerce.number().int().min(0).max(100_000).default(10),
  rate: positive.max(100).default(1),
  /** Seconds to run; without it, until Ctrl-C. */
  duration: positive.optional(),
  seed: z.coerce.number().int().default(1),
  /**
   * Faults the simulated fleet injects (`fleetpipe sim --faults` syntax; empty for none). By default
   * one of each kind a rule catches, on its own device, within the first three minutes.
   */
  faults: z.string().default(DEV_FAULTS),
  rules: z.string().min(1).optional(),
  maxAge: duration.default(DEFAULT_MAX_AGE_MS),
  batchSize: z.coerce.number().int().min(1).max(10_000).default(500),
  batchMs: z.coerce.number().int().min(1).max(10_000).default(20),
  bridgeId: z.string().min(1).max(64).default('fleetpipe-bridge'),
  /**
   * Opened alerts per 1,000 readings of a device type, over a closed drift window, above which
   * retraining runs on the store's recent readings; without it, drift is not watched.
   */
  driftThreshold: positive.optional(),
  driftWindow: duration.default(3_600_000),
  /** A cloud: every batch goes through its handler, fed the events that platform would deliver. */
  cloud: z.enum(CLOUDS).default('local'),
  json: flag.default(false),
})

export type Config = z.infer<typeof ConfigSchema>
type Key = keyof Config

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
const envName = (key: string) => `FLEETPIPE_${kebab(key).replaceAll('-', '_').toUpperCase()}`

/** Flags as given on the command line (already split by name) and the environment. */
export function loadConfig(
  flags: Partial<Record<Key, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const input: Record<string, unknown> = {}
  for (const key of Object.keys(ConfigSchema.shape) as Key[]) {
    const value = flags[key] ?? env[envName(key)]
    if (value !== undefined && value !== '') input[key] = value
  }
  const parsed = ConfigSchema.safeParse(input)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0])
    return `--${kebab(key)} (${envName(key)}): ${issue.message}`
  })
  throw new ConfigError(`bad configuration\n  ${problems.join('\n  ')}`)
}

/** The flags `parseArgs` should know, from the schema. */
export function configFlags(): Record<string, { type: 'string' | 'boolean' }> {
  return Object.fromEntries(
    (Object.keys(ConfigSchema.shape) as Key[]).map((key) => [
      kebab(key),
      { type: key === 'json' ? 'boolean' : 'string' },
    ]),
  )
}

export function flagsToConfigKeys(values: Record<string, unknown>): Partial<Record<Key, unknown>> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = values[kebab(key)]
    if (value !== undefined) out[key] = value
  }
  return out
}
