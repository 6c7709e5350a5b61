/**
 * Log lines as Cloud Logging reads them: one JSON object per line on stdout, its `severity` and
 * `message` taken as the entry's, every other field kept as `jsonPayload`.
 * https://cloud.google.com/logging/docs/structured-logging
 */

export const SEVERITIES = ['DEBUG', 'INFO', 'WARNING', 'ERROR'] as const
export type Severity = (typeof SEVERITIES)[number]

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

export interface LoggerOptions {
  /** On every line, to tell stages apart in one project's logs. */
  stage: string
  /** Lines below this severity are dropped; `SILENT` drops all (local runs, tests). */
  level?: Severity | 'SILENT'
  /** Receives each line, without its newline. */
  write?: (line: string) => void
}

export const SERVICE_NAME = 'fleetpipe-ingest'

export function createLogger({ stage, level = 'INFO', write }: LoggerOptions): Logger {
  const out = write ?? ((line: string) => process.stdout.write(`${line}\n`))
  const threshold = level === 'SILENT' ? SEVERITIES.length : SEVERITIES.indexOf(level)
  const log =
    (severity: Severity) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      if (SEVERITIES.indexOf(severity) < threshold) return
      out(JSON.stringify({ severity, message, service: SERVICE_NAME, stage, ...fields }))
    }
  return { info: log('INFO'), warn: log('WARNING'), error: log('ERROR') }
}

/** A logger for local runs: errors only, so the run's own output stays readable. */
export function quietLogger(stage = 'local'): Logger {
  return createLogger({ stage, level: 'ERROR' })
}
