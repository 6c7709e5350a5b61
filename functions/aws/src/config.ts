/**
 * The Lambda configuration, read once per cold start: FLEETPIPE_* variables through one zod schema
 * into a typed object. A bad value is a ConfigError naming each variable and what it must be.
 */
import {
  ConfigError,
  type DeviceTypeSpec,
  defaultDeviceTypes,
  defaultRules,
  parseRulesJson,
  type Rule,
  RulesFileSchema,
} from '@fleetpipe/core'
import * as z from 'zod/mini'

const name = z.string({ error: 'must be set' }).check(z.trim(), z.minLength(1, 'must be set'))

const rulesJson = z.pipe(
  z.string(),
  z.transform((text, ctx): Rule[] => {
    try {
      return parseRulesJson(text)
    } catch (error) {
      ctx.issues.push({
        code: 'custom',
        message: `must be a JSON array of rules: ${(error as Error).message}`,
        input: text,
      })
      return z.NEVER
    }
  }),
)

export const EnvSchema = z.object({
  FLEETPIPE_STAGE: name,
  FLEETPIPE_TIMESTREAM_DATABASE: name,
  FLEETPIPE_TIMESTREAM_TABLE: name,
  FLEETPIPE_STATE_TABLE: name,
  FLEETPIPE_ALERT_TOPIC_ARN: name.check(z.regex(/^arn:aws[a-z-]*:sns:/, 'must be an SNS topic ARN')),
  /** Where quarantined messages go (`quarantine/…` NDJSON objects, see S3Quarantine). */
  FLEETPIPE_QUARANTINE_BUCKET: name,
  /** Without it, the rules shipped with the core (`defaultRules`). */
  FLEETPIPE_RULES: z.optional(rulesJson),
  FLEETPIPE_MAX_AGE_MS: z.optional(z.coerce.number().check(z.int(), z.positive())),
  /**
   * The account's `iot:Data-ATS` endpoint (`aws iot describe-endpoint --endpoint-type iot:Data-ATS`),
   * which AWS recommends over the SDK's default data-plane endpoint.
   */
  FLEETPIPE_IOT_DATA_ENDPOINT: z.optional(z.url({ protocol: /^https$/ })),
  /**
   * Opened alerts per 1,000 readings of a device type over a closed drift window above which ingest
   * puts a `RetrainRequested` event on the default bus; without it, drift is not watched.
   */
  FLEETPIPE_DRIFT_THRESHOLD: z.optional(z.coerce.number().check(z.positive())),
  FLEETPIPE_DRIFT_WINDOW_MS: z.optional(z.coerce.number().check(z.int(), z.minimum(60_000))),
})

export interface AwsConfig {
  stage: string
  timestream: { database: string; table: string }
  stateTable: string
  alertTopicArn: string
  quarantineBucket: string
  rules: Rule[]
  maxAgeMs?: number
  iotDataEndpoint?: string
  /** Set when FLEETPIPE_DRIFT_THRESHOLD is; device types from FLEETPIPE_RULES' `deviceTypes`. */
  drift?: { threshold: number; windowMs?: number; deviceTypes: DeviceTypeSpec[] }
}

export function loadConfig(env: Record<string, string | undefined>): AwsConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  const parsed = EnvSchema.safeParse(present)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    throw new ConfigError(`bad Lambda configuration\n  ${problems.join('\n  ')}`)
  }
  const vars = parsed.data
  return {
    stage: vars.FLEETPIPE_STAGE,
    timestream: { database: vars.FLEETPIPE_TIMESTREAM_DATABASE, table: vars.FLEETPIPE_TIMESTREAM_TABLE },
    stateTable: vars.FLEETPIPE_STATE_TABLE,
    alertTopicArn: vars.FLEETPIPE_ALERT_TOPIC_ARN,
    quarantineBucket: vars.FLEETPIPE_QUARANTINE_BUCKET,
    rules: vars.FLEETPIPE_RULES ?? defaultRules,
    maxAgeMs: vars.FLEETPIPE_MAX_AGE_MS,
    iotDataEndpoint: vars.FLEETPIPE_IOT_DATA_ENDPOINT,
    drift:
      vars.FLEETPIPE_DRIFT_THRESHOLD === undefined
        ? undefined
        : {
            threshold: vars.FLEETPIPE_DRIFT_THRESHOLD,
            windowMs: vars.FLEETPIPE_DRIFT_WINDOW_MS,
            deviceTypes: deviceTypesOf(present.FLEETPIPE_RULES),
          },
  }
}

/** The rules document's `deviceTypes` (already validated with its rules); the shipped ones without rules. */
function deviceTypesOf(rules: string | undefined): DeviceTypeSpec[] {
  if (rules === undefined) return defaultDeviceTypes
  const body = JSON.parse(rules) as { deviceTypes?: unknown } | null
  const types = RulesFileSchema.shape.deviceTypes.safeParse(
    Array.isArray(body) ? undefined : body?.deviceTypes,
  )
  return types.success ? types.data : []
}
