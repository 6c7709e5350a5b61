import type { Logger } from '@aws-lambda-powertools/logger'
import type { Quarantine, QuarantineEntry } from '@fleetpipe/core'

/**
 * Quarantine as log lines: each entry is one WARN line from the Powertools Logger, with the whole
 * entry under `quarantine` (its own `message` would otherwise clash with the log line's). CloudWatch
 * Logs keeps them for the log group's retention; replay reads them back from a log export or a
 * Logs Insights query (`filter ispresent(quarantine.reason)`).
 *
 * Caveats, and why an S3 quarantine adapter is the next step: the function's log level (Powertools'
 * and Lambda's advanced logging controls) must let WARN through, or entries are lost; and a raw
 * payload near the 128 KB wire limit makes a line close to CloudWatch's per-event size limit.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
 */
export class LogQuarantine implements Quarantine {
  constructor(private readonly logger: Logger) {}

  async put(entries: readonly QuarantineEntry[]): Promise<void> {
    for (const entry of entries) this.logger.warn('quarantined', { quarantine: entry })
  }
}
