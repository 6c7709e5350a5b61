/** Durations as people write them in flags and rules files: `90s`, `5m`, `7d`. */

const UNITS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** `90s`, `15m`, `7d`, or a bare number of milliseconds; undefined when it is neither. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim())
  if (!match) return undefined
  return Number(match[1]) * UNITS[(match[2] ?? 'ms') as keyof typeof UNITS]
}

/** The largest whole unit: 300000 → `5m`, 90000 → `90s`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNITS[unit] && ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`
  }
  return `${ms}ms`
}
