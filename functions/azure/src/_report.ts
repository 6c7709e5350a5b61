/** The one log line each invocation writes: counts, and where to find the messages that need a look. */
import type { InvocationContext } from '@azure/functions'
import type { IngestCounts } from '@fleetpipe/core'
import type { Position } from './_utils.ts'

export interface EventHubCounts extends IngestCounts {
  /** Records of messages whose retries ran out, now in the dead-letter store. */
  deadLettered: number
}

export interface Report {
  stage?: string
  counts: EventHubCounts
  /** Ingest calls this invocation made: 1 when nothing had to be retried. */
  attempts: number
  partitionId?: string
  /** Sequence numbers of the batch's first and last message. */
  sequence?: [number, number]
  deadLettered: (Position & { detail: string })[]
  /** Messages that were not a device's telemetry through IoT Hub (quarantined as `unknown_topic`). */
  foreign: (Position & { path: string; issue: string })[]
}

/** Lists in a line stop here; the counts still cover all. */
const MAX_LISTED = 20

/**
 * One JSON line per invocation, so Application Insights queries can parse it
 * (`traces | where message has '"event":"ingest"' | extend r = parse_json(message)`): a warning
 * when anything was dead-lettered, still failing or foreign, an error when dead-lettering failed.
 */
export function writeReport(context: InvocationContext, report: Report, level?: 'error'): void {
  const line = JSON.stringify({
    event: 'ingest',
    ...report,
    deadLettered: report.deadLettered.slice(0, MAX_LISTED),
    foreign: report.foreign.slice(0, MAX_LISTED),
  })
  if (level === 'error') context.error(line)
  else if (report.deadLettered.length > 0 || report.foreign.length > 0 || report.counts.failed > 0) {
    context.warn(line)
  } else context.log(line)
}
