/**
 * The function app's configuration, read once per cold start: FLEETPIPE_* app settings through one
 * zod schema into a typed object. A bad value is a ConfigError naming each setting and what it must be.
 *
 * Three settings are the host's, not ours, and keep the names the trigger binding refers to
 * (`%EVENTHUB_NAME%` and so on): the host resolves them before any code runs. They are checked here
 * too so a wrong one is named in the same message as the rest.
 */
import { ConfigError, defaultRules, parseRulesJson, type Rule } from '@fleetpipe/core'
import * as z from 'zod'

/** App settings the trigger binding names; infra sets them. */
export const HOST_SETTINGS = {
  /** Holds IoT Hub's Event Hub-compatible connection string (Built-in endpoints). */
  connection: 'IOTHUB_EVENTS',
  eventHubName: 'EVENTHUB_NAME',
  consumerGroup: 'EVENTHUB_CONSUMER_GROUP',
} as const

/**
 * A consumer group of the function's own: sharing `$Default` with another reader (a portal
 * session, a second app) makes the two steal partitions from each other.
 */
export const DEFAULT_CONSUMER_GROUP = 'fleetpipe'

const name = z.string({ error: 'must be set' }).trim().min(1, 'must be set')

const rulesJson = z.string().transform((text, ctx): Rule[] => {
  try {
    return parseRulesJson(text)
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `must be a JSON array of rules: ${(error as Error).message}` })
    return z.NEVER
  }
})

/** `Key=value;...` connection strings, with the keys a kind must hold. */
const connectionString = (keys: string[], what: string) =>
  name.refine(
    (text) => {
      const held = new Set(text.split(';').map((part) => part.slice(0, part.indexOf('=')).toLowerCase()))
      return keys.every((key) => held.has(key.toLowerCase()))
    },
    `must be ${what} (${keys.map((k) => `${k}=…`).join(';')})`,
  )

export const EnvSchema = z.object({
  FLEETPIPE_STAGE: name,
  FLEETPIPE_DATABASE_URL: name.regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  FLEETPIPE_EVENTGRID_ENDPOINT: z
    .url({
      protocol: /^https$/,
      error: 'must be the topic endpoint, https://….eventgrid.azure.net/api/events',
    })
    .optional(),
  FLEETPIPE_EVENTGRID_KEY: name.optional(),
  FLEETPIPE_ALERT_WEBHOOK_URL: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).optional(),
  FLEETPIPE_ALERT_WEBHOOK_SECRET: name.min(16, 'must be at least 16 characters').optional(),
  /** For cloud-to-device commands: a policy with the `service` permission, not the device or Event Hub one. */
  FLEETPIPE_IOTHUB_SERVICE_CONNECTION: connectionString(
    ['HostName', 'SharedAccessKeyName', 'SharedAccessKey'],
    "the IoT hub's service connection string",
  ),
  /** Without it, the rules shipped with the core (`defaultRules`). */
  FLEETPIPE_RULES: rulesJson.optional(),
  FLEETPIPE_MAX_AGE_MS: z.coerce.number().int().positive().optional(),
  [HOST_SETTINGS.connection]: connectionString(
    ['Endpoint', 'SharedAccessKeyName', 'SharedAccessKey'],
    "the IoT hub's Event Hub-compatible connection string, from Built-in endpoints",
  ),
  [HOST_SETTINGS.eventHubName]: name,
  [HOST_SETTINGS.consumerGroup]: name.default(DEFAULT_CONSUMER_GROUP),
})

/** Where alert transitions go: the variants `alertSinkFromConfig` handles. */
export type AlertConfig =
  | { kind: 'eventgrid'; endpoint: string; key: string }
  | { kind: 'webhook'; url: string; secret: string }

export interface AzureConfig {
  stage: string
  databaseUrl: string
  alerts: AlertConfig
  iotHubServiceConnection: string
  rules: Rule[]
  maxAgeMs?: number
  /** What the trigger reads; the connection string itself stays with the host. */
  eventHub: { name: string; consumerGroup: string }
}

export function loadConfig(env: Record<string, string | undefined>): AzureConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  const parsed = EnvSchema.safeParse(present)
  const problems = [
    ...(parsed.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? []),
    ...alertProblems(present),
  ]
  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(`bad function app configuration\n  ${problems.join('\n  ')}`)
  }
  const vars = parsed.data
  return {
    stage: vars.FLEETPIPE_STAGE,
    databaseUrl: vars.FLEETPIPE_DATABASE_URL,
    alerts: alertConfig(vars),
    iotHubServiceConnection: vars.FLEETPIPE_IOTHUB_SERVICE_CONNECTION,
    rules: vars.FLEETPIPE_RULES ?? defaultRules,
    maxAgeMs: vars.FLEETPIPE_MAX_AGE_MS,
    eventHub: { name: vars.EVENTHUB_NAME, consumerGroup: vars.EVENTHUB_CONSUMER_GROUP },
  }
}

const ALERT_PAIRS = [
  ['FLEETPIPE_EVENTGRID_ENDPOINT', 'FLEETPIPE_EVENTGRID_KEY'],
  ['FLEETPIPE_ALERT_WEBHOOK_URL', 'FLEETPIPE_ALERT_WEBHOOK_SECRET'],
] as const

/** Exactly one alert sink, each with both of its settings. */
function alertProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = []
  let complete = 0
  for (const [a, b] of ALERT_PAIRS) {
    if (env[a] !== undefined && env[b] !== undefined) complete++
    else if (env[a] !== undefined) problems.push(`${b}: must be set with ${a}`)
    else if (env[b] !== undefined) problems.push(`${a}: must be set with ${b}`)
  }
  if (complete === 0 && problems.length === 0) {
    problems.push(`alerts: set ${ALERT_PAIRS.map((pair) => pair.join(' and ')).join(', or ')}`)
  }
  if (complete > 1) problems.push('alerts: set Event Grid or a webhook, not both')
  return problems
}

function alertConfig(vars: z.infer<typeof EnvSchema>): AlertConfig {
  if (vars.FLEETPIPE_EVENTGRID_ENDPOINT && vars.FLEETPIPE_EVENTGRID_KEY) {
    return {
      kind: 'eventgrid',
      endpoint: vars.FLEETPIPE_EVENTGRID_ENDPOINT,
      key: vars.FLEETPIPE_EVENTGRID_KEY,
    }
  }
  if (vars.FLEETPIPE_ALERT_WEBHOOK_URL && vars.FLEETPIPE_ALERT_WEBHOOK_SECRET) {
    return {
      kind: 'webhook',
      url: vars.FLEETPIPE_ALERT_WEBHOOK_URL,
      secret: vars.FLEETPIPE_ALERT_WEBHOOK_SECRET,
    }
  }
  // alertProblems has made sure one pair is complete.
  throw new ConfigError('alerts: no alert sink configured')
}
