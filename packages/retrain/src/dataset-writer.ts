/**
 * Writing a labeled dataset, as `fleetpipe sim --export-dataset FILE` does: the readings a fleet
 * published, each labeled by the ground truth the simulator recorded (overheat episodes and the
 * faults that change a reading's values). The result is what a dataset drop expects.
 */

import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { finished } from 'node:stream/promises'
import type { Reading, TelemetryInput } from '@fleetpipe/core'
import { type DatasetFormat, formatOf } from './dataset.ts'

/** A labeled window of one device's readings (firmware-sim's `Label`: overheat episodes and faults). */
export interface LabelWindow {
  deviceId: string
  kind: string
  startTs: number
  endTs: number
}

/**
 * The label kinds whose readings carry unusual values. The others (dropout, duplicate, malformed,
 * spoof, skew, oversize) change what arrives, not the values: their readings are normal ones.
 */
export const VALUE_ANOMALIES: readonly string[] = ['overheat', 'spike', 'stuck', 'drift']

type AnyReading = Pick<Reading, 'deviceId' | 'ts' | 'seq' | 'metrics'> & {
  boot?: string | number
  fw?: string
}

/** Whether a reading falls in a value-changing label window of its device. */
export function labeler(labels: readonly LabelWindow[]): (reading: AnyReading) => boolean {
  const byDevice = new Map<string, LabelWindow[]>()
  for (const label of labels) {
    if (!VALUE_ANOMALIES.includes(label.kind)) continue
    const list = byDevice.get(label.deviceId) ?? []
    list.push(label)
    byDevice.set(label.deviceId, list)
  }
  return (reading) =>
    byDevice.get(reading.deviceId)?.some((l) => reading.ts >= l.startTs && reading.ts <= l.endTs) ?? false
}

/** The dataset's lines, header first for CSV; `metrics` fixes the CSV columns (else the first reading's). */
export function* datasetLines(
  rows: Iterable<{ reading: AnyReading | TelemetryInput; label?: boolean }>,
  options: { format: DatasetFormat; metrics?: readonly string[] },
): Generator<string> {
  let columns = options.metrics
  for (const { reading, label } of rows) {
    const labelValue = label === undefined ? undefined : label ? 1 : 0
    if (options.format === 'ndjson') {
      const { deviceId, ts, seq, boot, fw, metrics } = reading
      yield `${JSON.stringify({ v: 1, deviceId, ts, seq, ...(boot !== undefined ? { boot } : {}), ...(fw !== undefined ? { fw } : {}), metrics, ...(labelValue !== undefined ? { label: labelValue } : {}) })}\n`
      continue
    }
    if (!columns) {
      columns = Object.keys(reading.metrics).sort()
      yield `deviceId,ts,seq,boot,fw,${columns.join(',')},label\n`
    }
    const metrics = reading.metrics as Record<string, number | undefined>
    const cells = [reading.deviceId, reading.ts, reading.seq, reading.boot ?? '', reading.fw ?? '']
    yield `${[...cells, ...columns.map((m) => metrics[m] ?? ''), labelValue ?? ''].map(csvCell).join(',')}\n`
  }
}

/** Writes a dataset file, its format from the name (`.ndjson`, `.jsonl` or `.csv`), respecting backpressure. */
export async function writeDatasetFile(
  path: string,
  rows: Iterable<{ reading: AnyReading | TelemetryInput; label?: boolean }>,
  options: { metrics?: readonly string[] } = {},
): Promise<{ rows: number; anomalies: number }> {
  const format = formatOf(path)
  if (!format) throw new Error(`${path}: name the dataset .ndjson, .jsonl or .csv`)
  const out = createWriteStream(path)
  let count = 0
  let anomalies = 0
  const counted = (function* () {
    for (const row of rows) {
      count++
      if (row.label) anomalies++
      yield row
    }
  })()
  for (const line of datasetLines(counted, { format, ...options })) {
    if (!out.write(line)) await once(out, 'drain')
  }
  out.end()
  await finished(out)
  return { rows: count, anomalies }
}

function csvCell(value: string | number): string {
  const text = String(value)
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}
