/** What both handlers tell operators after each invocation: a log line with the counts, and EMF metrics. */
import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import type { DriftWatch, IngestOptions, IngestResult } from '@fleetpipe/core'
import type { Context } from 'aws-lambda'

export interface HandlerOptions extends IngestOptions {
  /** On every log line and as the metrics' `stage` dimension, e.g. `prod`. */
  stage: string
  logger?: Logger
  metrics?: Metrics
  /** Sees each invocation's full result, e.g. for a local run's counts. */
  onResult?: (result: IngestResult) => void
  /** Told each batch's result, to ask for retraining when a device type's anomaly rate drifts up. */
  drift?: Pick<DriftWatch, 'observe'>
}

export const SERVICE_NAME = 'fleetpipe-ingest'
export const METRICS_NAMESPACE = 'fleetpipe'

export interface Observers {
  logger: Logger
  metrics: Metrics
}

export function observers(options: HandlerOptions): Observers {
  return {
    logger: options.logger ?? defaultLogger(options.stage),
    metrics:
      options.metrics ??
      new Metrics({
        namespace: METRICS_NAMESPACE,
        serviceName: SERVICE_NAME,
        defaultDimensions: { stage: options.stage },
      }),
  }
}

export function defaultLogger(stage: string): Logger {
  return new Logger({ serviceName: SERVICE_NAME, persistentKeys: { stage } })
}

export function startInvocation({ logger }: Observers, context: Context | undefined): void {
  if (context) logger.addContext(context)
}

/**
 * Logs the counts and each failed record, and publishes the counts as metrics. `where` names a
 * record's inbound message for people (e.g. its SQS message id).
 */
export function report(
  { logger, metrics }: Observers,
  result: IngestResult,
  where: (message: number) => Record<string, unknown>,
): void {
  const { counts } = result
  for (const record of result.records) {
    if (record.outcome === 'failed') {
      logger.warn('record failed, will be retried', { ...where(record.message), detail: record.detail })
    }
  }
  logger.info('ingested', { counts })
  metrics.addMetric('received', MetricUnit.Count, counts.received)
  metrics.addMetric('stored', MetricUnit.Count, counts.stored)
  metrics.addMetric('duplicates', MetricUnit.Count, counts.duplicates)
  metrics.addMetric('quarantined', MetricUnit.Count, counts.quarantined)
  metrics.addMetric('failed', MetricUnit.Count, counts.failed)
  metrics.addMetric('alerts', MetricUnit.Count, counts.alerts)
  metrics.publishStoredMetrics()
}

/** Logs an event that was not the rule's projection; the core quarantines it as `unknown_topic`. */
export function reportForeign(
  { logger }: Observers,
  problem: { path: string; issue: string },
  extra: Record<string, unknown> = {},
): void {
  logger.warn('event is not the IoT rule projection, quarantining it', { ...extra, ...problem })
}
