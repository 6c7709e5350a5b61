/**
 * The function's configuration, read once per instance: FLEETPIPE_* variables through one zod
 * schema into a typed object. A bad value is a ConfigError naming each variable and what it must be.
 */
import { ConfigError, defaultRules, parseRulesJson, type Rule } from '@fleetpipe/core'
import * as z from 'zod'

const name = z.string({ error: 'must be set' }).trim().min(1, 'must be set')

/**
 * A topic's short name (resolved in the client's project, `GOOGLE_CLOUD_PROJECT` on Cloud Run) or
 * its full name. https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names
 */
const topicName = name.regex(
  /^(projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/)?(?!goog)[A-Za-z][\w.~+%-]{2,254}$/,
  'must be a Pub/Sub topic name (fleetpipe-alerts) or full name (projects/PROJECT/topics/TOPIC)',
)

const rulesJson = z.string().transform((text, ctx): Rule[] => {
  try {
    return parseRulesJson(text)
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `must be a JSON array of rules: ${(error as Error).message}` })
    return z.NEVER
  }
})

export const EnvSchema = z.object({
  FLEETPIPE_STAGE: name,
  /**
   * `postgres://USER:PASSWORD@HOST:5432/DB`; for Cloud SQL over its Unix socket on Cloud Run,
   * `postgres://USER:PASSWORD@/DB?host=/cloudsql/PROJECT:REGION:INSTANCE`. Keep the password in
   * Secret Manager and expose it as this variable.
   */
  FLEETPIPE_DATABASE_URL: name.regex(
    /^postgres(ql)?:\/\//,
    'must be a postgres:// URL (Cloud SQL over its socket: postgres://USER:PASSWORD@/DB?host=/cloudsql/PROJECT:REGION:INSTANCE)',
  ),
  /** Alert transitions go to this topic, to the webhook, or to both (and always to the database). */
  FLEETPIPE_ALERTS_TOPIC: topicName.optional(),
  FLEETPIPE_ALERT_WEBHOOK_URL: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).optional(),
  FLEETPIPE_ALERT_WEBHOOK_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)')
    .optional(),
  /** Device commands go to this topic, which the MQTT bridge forwards to `fleet/{deviceId}/commands`. */
  FLEETPIPE_COMMANDS_TOPIC: topicName,
  /** Without it, the rules shipped with the core (`defaultRules`). */
  FLEETPIPE_RULES: rulesJson.optional(),
  FLEETPIPE_MAX_AGE_MS: z.coerce.number().int().positive().optional(),
})

export interface GcpConfig {
  stage: string
  databaseUrl: string
  alertsTopic?: string
  webhook?: { url: string; secret: string }
  commandsTopic: string
  rules: Rule[]
  maxAgeMs?: number
}

export function loadConfig(env: Record<string, string | undefined>): GcpConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  const parsed = EnvSchema.safeParse(present)
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)),
    ...alertProblems(present),
  ]
  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(`bad function configuration\n  ${problems.join('\n  ')}`)
  }
  const vars = parsed.data
  const { FLEETPIPE_ALERT_WEBHOOK_URL: url, FLEETPIPE_ALERT_WEBHOOK_SECRET: secret } = vars
  return {
    stage: vars.FLEETPIPE_STAGE,
    databaseUrl: vars.FLEETPIPE_DATABASE_URL,
    alertsTopic: vars.FLEETPIPE_ALERTS_TOPIC,
    webhook: url && secret ? { url, secret } : undefined,
    commandsTopic: vars.FLEETPIPE_COMMANDS_TOPIC,
    rules: vars.FLEETPIPE_RULES ?? defaultRules,
    maxAgeMs: vars.FLEETPIPE_MAX_AGE_MS,
  }
}

/** Checked apart from the schema so they are reported together with any other problem. */
function alertProblems(env: Record<string, string | undefined>): string[] {
  const url = env.FLEETPIPE_ALERT_WEBHOOK_URL !== undefined
  const secret = env.FLEETPIPE_ALERT_WEBHOOK_SECRET !== undefined
  if (url && !secret) return ['FLEETPIPE_ALERT_WEBHOOK_SECRET: must be set with FLEETPIPE_ALERT_WEBHOOK_URL']
  if (secret && !url) return ['FLEETPIPE_ALERT_WEBHOOK_URL: must be set with FLEETPIPE_ALERT_WEBHOOK_SECRET']
  if (!url && env.FLEETPIPE_ALERTS_TOPIC === undefined) {
    return [
      'FLEETPIPE_ALERTS_TOPIC: must be set, or FLEETPIPE_ALERT_WEBHOOK_URL and FLEETPIPE_ALERT_WEBHOOK_SECRET, for alerts to reach anyone',
    ]
  }
  return []
}
