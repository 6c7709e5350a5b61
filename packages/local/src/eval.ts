/**
 * `fleetpipe eval`: fleetpipe's rules against the seed's fixed thresholds on a labeled dataset from
 * the simulator — precision, recall, F1, false alerts per device-day and median detection delay per
 * rule kind and overall. Its settings have their own schema, as sim's do.
 */
import { ConfigError, defaultRules } from '@fleetpipe/core'
import { type EvalReport, evaluate, LABEL_KINDS, type Score, TARGETS } from '@fleetpipe/eval'
import * as z from 'zod'
import { formatTable } from './format.ts'
import { loadRulesFile } from './rules-file.ts'

const flag = z
  .union([z.boolean(), z.enum(['1', '0', 'true', 'false'])])
  .transform((v) => v === true || v === '1' || v === 'true')

export const EvalConfigSchema = z.object({
  devices: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Simulated hours. */
  hours: z.coerce
    .number()
    .positive()
    .max(24 * 31)
    .default(6),
  /** Seconds between one device's readings. */
  interval: z.coerce.number().min(0.001).max(3_600).default(10),
  seed: z.coerce.number().int().default(1),
  /** A JSON rules file, as `dev --rules` takes; fleetpipe's default rules without it. */
  rules: z.string().min(1).optional(),
  json: flag.default(false),
})

export type EvalConfig = z.infer<typeof EvalConfigSchema>
type Key = keyof EvalConfig

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
const envName = (key: string) => `FLEETPIPE_${kebab(key).replaceAll('-', '_').toUpperCase()}`

/** Flags (by their kebab-case names, as `parseArgs` gives them) over FLEETPIPE_* over defaults. */
export function loadEvalConfig(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): EvalConfig {
  const input: Record<string, unknown> = {}
  for (const key of Object.keys(EvalConfigSchema.shape) as Key[]) {
    const value = flags[kebab(key)] ?? env[envName(key)]
    if (value !== undefined && value !== '') input[key] = value
  }
  const parsed = EvalConfigSchema.safeParse(input)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0])
    return `--${kebab(key)} (${envName(key)}): ${issue.message}`
  })
  throw new ConfigError(`bad configuration\n  ${problems.join('\n  ')}`)
}

/** The flags `parseArgs` should know for eval. */
export function evalFlags(): Record<string, { type: 'string' | 'boolean' }> {
  return Object.fromEntries(
    Object.keys(EvalConfigSchema.shape).map((key) => [
      kebab(key),
      { type: key === 'json' ? 'boolean' : 'string' },
    ]),
  )
}

export interface EvalSummary extends EvalReport {
  /** The rules file, or `defaults`. */
  rules: string
  seconds: number
}

export async function runEval(config: EvalConfig): Promise<EvalSummary> {
  const rules = config.rules ? await loadRulesFile(config.rules) : defaultRules
  const started = performance.now()
  const report = await evaluate({
    rules,
    devices: config.devices,
    hours: config.hours,
    intervalMs: Math.round(config.interval * 1_000),
    seed: config.seed,
  })
  const seconds = Math.round((performance.now() - started) / 100) / 10
  return { ...report, rules: config.rules ?? 'defaults', seconds }
}

/** The report for people: what was run, the table, and the verdict against the baseline. */
export function formatEval(summary: EvalSummary): string {
  const { dataset, fleetpipe, baseline } = summary
  const labels = LABEL_KINDS.map((kind) => `${kind} ${dataset.labels[kind]}`).join(' · ')
  const total = LABEL_KINDS.reduce((sum, kind) => sum + dataset.labels[kind], 0)
  const rules = summary.rules === 'defaults' ? "fleetpipe's defaults" : summary.rules
  const lines = [
    `fleetpipe eval — ${dataset.devices} devices × ${dataset.hours} h at ${dataset.intervalMs / 1_000} s, ` +
      `seed ${dataset.seed}: ${count(dataset.readings)} readings, ${round(dataset.deviceDays, 2)} device-days`,
    `labels  ${labels} (${total})`,
    `rules   ${rules}`,
    `scoring an alert counts up to ${seconds(summary.graceMs)} s after a label's last reading; ` +
      'FP = repeats + alerts outside every label',
    '',
    formatTable(summary.rows.map((row) => ({ rules: row.name, ...columns(row.score) }))),
    '',
    verdict(fleetpipe, baseline, summary.beatsBaseline),
  ]
  if (summary.untargeted.length > 0) {
    const named = summary.untargeted.map((kind) => `${kind} → ${TARGETS[kind].join(' or ')}`).join(', ')
    lines.push(`no rule here targets these labels, which count against fleetpipe's recall: ${named}`)
  }
  const { stored, received } = summary.ingest
  lines.push(`ingest stored ${count(stored)} of ${count(received)} readings · ${summary.seconds} s`)
  return lines.join('\n')
}

function columns(s: Score) {
  return {
    alerts: s.alerts,
    TP: s.truePositives,
    FP: s.falsePositives,
    repeats: s.repeats,
    labels: s.labels,
    detected: s.detected,
    precision: fixed(s.precision, 3),
    recall: fixed(s.recall, 3),
    F1: fixed(s.f1, 3),
    'false/device-day': fixed(s.falsePerDeviceDay, 2),
    'median delay (s)': s.medianDelayMs === undefined ? '–' : seconds(s.medianDelayMs),
  }
}

function verdict(fleetpipe: Score, baseline: Score, beats: EvalReport['beatsBaseline']): string {
  const f1 = `F1 ${fixed(fleetpipe.f1, 3)} vs ${fixed(baseline.f1, 3)}`
  const fa = `false alerts/device-day ${fixed(fleetpipe.falsePerDeviceDay, 2)} vs ${fixed(baseline.falsePerDeviceDay, 2)}`
  if (beats.f1 && beats.falseAlerts) return `fleetpipe beats the baseline: ${f1}, ${fa}`
  const lost = [beats.f1 ? '' : f1, beats.falseAlerts ? '' : fa].filter(Boolean).join(', ')
  return `fleetpipe does NOT beat the baseline on ${lost}`
}

const fixed = (value: number | undefined, digits: number) =>
  value === undefined ? '–' : value.toFixed(digits)
const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits
const seconds = (ms: number) => String(round(ms / 1_000, 1))
const count = (n: number) => n.toLocaleString('en-US')

/** `fleetpipe eval`: the table on stdout, or the whole report as one JSON line with `--json`. */
export async function evalCommand(flags: Record<string, unknown>): Promise<number> {
  const config = loadEvalConfig(flags)
  if (!config.json) {
    process.stderr.write(
      `eval    ${config.devices} devices × ${config.hours} h at ${config.interval} s, seed ${config.seed}…\n`,
    )
  }
  const summary = await runEval(config)
  console.log(config.json ? JSON.stringify(summary) : formatEval(summary))
  return 0
}
