/**
 * The ExportDataset task's exporter on any store: a device type's readings over a time range,
 * labelled where the store can tell (an alert was open), written as NDJSON into the run's scratch
 * folder. Not under `datasets/`: a drop there starts a dataset run of its own, and this export
 * already belongs to a run.
 */
import { type Clock, type Reading, systemClock } from '@fleetpipe/core'
import { type BlobStore, RUNS_PREFIX } from './blob.ts'
import { datasetLines } from './dataset-writer.ts'
import { DatasetError } from './errors.ts'
import type { DatasetExporter, DatasetRef } from './tasks.ts'

/** Where an export reads from: the store's readings of a device type in [since, until), oldest first. */
export interface DatasetSource {
  rows(request: {
    deviceType: string
    since: number
    until: number
    /** At most this many rows: the newest ones of the range. */
    limit: number
  }): AsyncIterable<{ reading: Reading; label?: boolean }>
}

export interface StoreExporterOptions {
  blobs: BlobStore
  source: DatasetSource
  clock?: Clock
  /** How far back from `until` an export reaches when the run names no `since`; 24 h unless told. */
  lookbackMs?: number
  /** Rows per export (the newest); the dataset is built in memory, as BlobStore.put takes a string. */
  maxRows?: number
}

export const DEFAULT_EXPORT_LOOKBACK_MS = 24 * 3_600_000
export const DEFAULT_EXPORT_MAX_ROWS = 1_000_000

/** `runs/{run}/dataset.ndjson`: the export of one run. */
export const exportKey = (run: string) => `${RUNS_PREFIX}${run}/dataset.ndjson`

export class StoreDatasetExporter implements DatasetExporter {
  constructor(private readonly options: StoreExporterOptions) {}

  async export(request: {
    deviceType: string
    since?: number
    until?: number
    run: string
  }): Promise<DatasetRef> {
    const { deviceType, run } = request
    const until = request.until ?? (this.options.clock ?? systemClock).now()
    const since = request.since ?? until - (this.options.lookbackMs ?? DEFAULT_EXPORT_LOOKBACK_MS)
    const limit = this.options.maxRows ?? DEFAULT_EXPORT_MAX_ROWS
    let rows = 0
    let anomalies = 0
    let text = ''
    for await (const row of this.options.source.rows({ deviceType, since, until, limit })) {
      rows++
      if (row.label) anomalies++
      for (const line of datasetLines([row], { format: 'ndjson' })) text += line
    }
    if (rows === 0)
      throw new DatasetError(
        `no ${deviceType} readings in the store between ${new Date(since).toISOString()} and ${new Date(until).toISOString()}`,
      )
    const key = exportKey(run)
    await this.options.blobs.put(key, text, { contentType: 'application/x-ndjson' })
    return { key, deviceType, since, until, rows, anomalies }
  }
}
