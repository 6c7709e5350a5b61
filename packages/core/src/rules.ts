/**
 * Rules as configuration. A rule looks at one metric of the devices it selects and says, per
 * reading, whether its condition holds; the alert lifecycle (alerts.ts) turns that into
 * transitions. New rule kinds join the discriminated union and `detect`.
 */
import * as z from 'zod/mini'
import './_zod-messages.ts'
import { formatDuration, parseDuration } from './duration.ts'
import { METRIC_NAME_PATTERN } from './wire.ts'

export const SEVERITIES = ['info', 'warning', 'critical'] as const
export const Severity = z.enum(SEVERITIES)
export type Severity = z.infer<typeof Severity>

const CommandSpec = z.object({
  name: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/)),
  args: z.optional(z.record(z.string(), z.unknown())),
})

const RuleBase = z.object({
  id: z
    .string()
    .check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'rule ids are lower-case letters, digits, . _ -')),
  metric: z.string().check(z.regex(METRIC_NAME_PATTERN)),
  severity: Severity,
  /** Which devices the rule watches: `*` wildcards over the device id. */
  devices: z._default(z.string(), '*'),
  /** Sent to the device when an alert opens. */
  command: z.optional(CommandSpec),
})

/** `"5m"`, `"30s"`, or a number of milliseconds. */
const Duration = z.pipe(
  z.union([z.string(), z.number().check(z.nonnegative())]),
  z.transform((given, ctx): number => {
    const ms = typeof given === 'number' ? given : parseDuration(given)
    if (ms === undefined) {
      ctx.issues.push({ code: 'custom', message: 'must be a duration such as 30s, 5m or 1h', input: given })
      return z.NEVER
    }
    return ms
  }),
)

/**
 * "above 80 for 5 minutes, clears below 75": the condition holds while the value is beyond the threshold and
 * lets go only once it is back past `clear`, so a value hovering at the edge does not flap.
 */
export const ThresholdRuleSchema = z
  .extend(RuleBase, {
    kind: z.literal('threshold'),
    above: z.optional(z.number()),
    below: z.optional(z.number()),
    clear: z.optional(z.number()),
    /** How long (device time) the condition must hold before an alert opens; at once without it. */
    for: z.optional(Duration),
  })
  .check(
    z.superRefine((rule, ctx) => {
      if ((rule.above === undefined) === (rule.below === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['above'], message: 'set exactly one of above or below' })
        return
      }
      if (rule.clear === undefined) return
      if (rule.above !== undefined && rule.clear > rule.above) {
        ctx.addIssue({ code: 'custom', path: ['clear'], message: 'clear must be at or below `above`' })
      }
      if (rule.below !== undefined && rule.clear < rule.below) {
        ctx.addIssue({ code: 'custom', path: ['clear'], message: 'clear must be at or above `below`' })
      }
    }),
  )

export const RuleSchema = z.discriminatedUnion('kind', [ThresholdRuleSchema])
export type Rule = z.infer<typeof RuleSchema>
export type RuleInput = z.input<typeof RuleSchema>

export const RulesSchema = z.array(RuleSchema).check(
  z.superRefine((rules, ctx) => {
    const seen = new Set<string>()
    rules.forEach((rule, i) => {
      if (seen.has(rule.id))
        ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate rule id ${rule.id}` })
      seen.add(rule.id)
    })
  }),
)

/** Parses rules, naming the rule and field of the first problem. */
export function parseRules(input: unknown): Rule[] {
  const parsed = RulesSchema.safeParse(input)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((issue) => {
    const [index, ...field] = issue.path
    const id = typeof index === 'number' ? (input as { id?: unknown }[])[index]?.id : undefined
    return `rule ${String(id ?? index ?? '')} ${field.join('.')}: ${issue.message}`.replace(/\s+:/, ':')
  })
  throw new RulesError(`invalid rules — ${problems.join('; ')}`)
}

/**
 * Rules from JSON text — an environment variable, a file: an array of rules, or `{ "rules": [...] }`
 * — with the same errors as `parseRules`, and one more for text that is not JSON.
 */
export function parseRulesJson(text: string): Rule[] {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    throw new RulesError(`rules are not JSON: ${(error as Error).message}`)
  }
  return parseRules(Array.isArray(body) ? body : (body as { rules?: unknown } | null)?.rules)
}

export class RulesError extends Error {
  override name = 'RulesError'
}

/**
 * Whether the rule's condition holds for a value, given whether it held before (for hysteresis):
 * the severity when it does, undefined when it does not.
 */
export function detect(rule: Rule, wasActive: boolean, value: number): Severity | undefined {
  const above = rule.above !== undefined
  const threshold = thresholdOf(rule)
  const clear = rule.clear ?? threshold
  let holds: boolean
  if (wasActive) holds = above ? value >= clear : value <= clear
  else holds = above ? value > threshold : value < threshold
  return holds ? rule.severity : undefined
}

export function thresholdOf(rule: Rule): number {
  return (rule.above ?? rule.below) as number
}

/** Says what a rule saw, for alerts and people; built only when an alert changes. */
export function describe(rule: Rule, value: number, active: boolean): string {
  if (!active) return `${rule.metric} ${value} is back past ${rule.clear ?? thresholdOf(rule)}`
  const held = rule.for ? ` for ${formatDuration(rule.for)}` : ''
  return `${rule.metric} ${value} is ${rule.above !== undefined ? 'above' : 'below'} ${thresholdOf(rule)}${held}`
}

/** Whether a rule watches a device. */
export function selects(rule: Rule, deviceId: string): boolean {
  return rule.devices === '*' || globToRegExp(rule.devices).test(deviceId)
}

const globs = new Map<string, RegExp>()
function globToRegExp(glob: string): RegExp {
  let re = globs.get(glob)
  if (!re) {
    const body = glob.split('*').map(escapeRegExp).join('.*')
    re = new RegExp(`^${body}$`)
    globs.set(glob, re)
  }
  return re
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
