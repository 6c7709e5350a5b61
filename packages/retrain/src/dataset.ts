/**
 * Datasets: NDJSON or CSV files of wire-format readings with an optional `label` column, read as a
 * stream, one row at a time, so a dataset of any size trains in bounded memory. A bad row stops the
 * read with a DatasetError naming its line and field: a dataset is either trusted whole or not at all.
 *
 * NDJSON: one wire-format reading per line (`{"v":1,"deviceId":…,"ts":…,"seq":…,"metrics":{…}}`,
 * `v` may be left out), plus `"label"`.
 * CSV: a header, then `deviceId`, `ts` (epoch ms or ISO 8601), optional `seq`, `boot`, `fw` and
 * `label`; every other column is a metric, an empty cell a metric not sent.
 * Labels: `1`/`true`/`anomaly` or `0`/`false`/`normal`; empty or absent means unlabeled.
 */
import { MAX_PAYLOAD_BYTES, METRIC_NAME_PATTERN, type Reading, TelemetrySchema } from '@fleetpipe/core'
import { DatasetError } from './errors.ts'

export type DatasetFormat = 'ndjson' | 'csv'

export interface DatasetRow {
  reading: Reading
  /** true: anomalous, false: normal, undefined: not labeled. */
  label?: boolean
  /** 1-based line in the file. */
  line: number
}

export const DATASET_SUFFIXES: Record<string, DatasetFormat> = {
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.csv': 'csv',
}

/** The format a key or file name says, by its suffix. */
export function formatOf(name: string): DatasetFormat | undefined {
  const lower = name.toLowerCase()
  for (const [suffix, format] of Object.entries(DATASET_SUFFIXES)) if (lower.endsWith(suffix)) return format
  return undefined
}

/** A wire-format message is at most this long, and so is any sane dataset line. */
export const MAX_LINE_BYTES = MAX_PAYLOAD_BYTES

/**
 * The lines of a byte stream, with their numbers; blank lines are skipped. Not node:readline, which
 * buffers a line of any length: a file with no newline would be read into memory whole.
 */
export async function* lines(
  chunks: AsyncIterable<Uint8Array | string>,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<{ text: string; line: number }> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let pending = ''
  let line = 0
  const decode = (chunk: Uint8Array | string, stream: boolean) => {
    try {
      return typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream })
    } catch (error) {
      throw new DatasetError('not UTF-8 text', line + 1, { cause: error })
    }
  }
  for await (const chunk of chunks) {
    pending += decode(chunk, true)
    let start = 0
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n', start)) {
      line++
      const text = pending.slice(start, nl).replace(/\r$/, '')
      start = nl + 1
      if (text.length > maxLineBytes) throw new DatasetError(`longer than ${maxLineBytes} bytes`, line)
      if (text.trim()) yield { text, line }
    }
    pending = pending.slice(start)
    if (pending.length > maxLineBytes) throw new DatasetError(`longer than ${maxLineBytes} bytes`, line + 1)
  }
  pending += decode(new Uint8Array(), false)
  line++
  const last = pending.replace(/\r$/, '')
  if (last.trim()) yield { text: last, line }
}

/** The rows of a dataset, validated as the core validates a device's message. */
export async function* readDataset(
  chunks: AsyncIterable<Uint8Array | string>,
  format: DatasetFormat,
): AsyncGenerator<DatasetRow> {
  if (format === 'ndjson') {
    for await (const { text, line } of lines(chunks)) yield ndjsonRow(text, line)
    return
  }
  let columns: CsvColumns | undefined
  for await (const { text, line } of lines(chunks)) {
    if (!columns) columns = csvHeader(splitCsv(text, line), line)
    else yield csvRow(columns, splitCsv(text, line), line)
  }
}

function ndjsonRow(text: string, line: number): DatasetRow {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new DatasetError(`not JSON: ${(error as Error).message}`, line)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new DatasetError('not a JSON object (one reading per line)', line)
  const { label, ...rest } = value as Record<string, unknown>
  return { reading: toReading({ v: 1, ...rest }, line), label: parseLabel(label, line), line }
}

interface CsvColumns {
  names: string[]
  metrics: { index: number; name: string }[]
  at: Partial<Record<'deviceId' | 'ts' | 'seq' | 'boot' | 'fw' | 'label', number>>
}

const RESERVED = ['deviceId', 'ts', 'seq', 'boot', 'fw', 'label'] as const

function csvHeader(names: string[], line: number): CsvColumns {
  const columns: CsvColumns = { names, metrics: [], at: {} }
  names.forEach((raw, index) => {
    const name = raw.trim()
    if ((RESERVED as readonly string[]).includes(name)) {
      columns.at[name as (typeof RESERVED)[number]] = index
    } else if (name === 'v') {
      // The wire version is implied.
    } else if (METRIC_NAME_PATTERN.test(name)) {
      columns.metrics.push({ index, name })
    } else {
      throw new DatasetError(
        `column ${index + 1} "${name}": not a metric name ([a-z][a-z0-9_]{0,63}) nor one of ${RESERVED.join(', ')}`,
        line,
      )
    }
  })
  for (const required of ['deviceId', 'ts'] as const) {
    if (columns.at[required] === undefined)
      throw new DatasetError(`the header has no ${required} column`, line)
  }
  if (columns.metrics.length === 0) throw new DatasetError('the header names no metric column', line)
  return columns
}

function csvRow(columns: CsvColumns, cells: string[], line: number): DatasetRow {
  if (cells.length !== columns.names.length)
    throw new DatasetError(`${cells.length} cells, the header has ${columns.names.length}`, line)
  const cell = (name: keyof CsvColumns['at']) => {
    const index = columns.at[name]
    const value = index === undefined ? '' : (cells[index] as string).trim()
    return value === '' ? undefined : value
  }
  const metrics: Record<string, number> = {}
  for (const { index, name } of columns.metrics) {
    const text = (cells[index] as string).trim()
    if (text === '') continue
    const value = Number(text)
    if (!Number.isFinite(value)) throw new DatasetError(`${name}: "${text}" is not a number`, line)
    metrics[name] = value
  }
  const ts = cell('ts')
  const seq = cell('seq')
  return {
    reading: toReading(
      {
        v: 1,
        deviceId: cell('deviceId'),
        ts: ts !== undefined && /^\d+$/.test(ts) ? Number(ts) : ts === undefined ? undefined : Date.parse(ts),
        // A CSV export may leave seq out; the line keeps rows of one device and time apart.
        seq: seq === undefined ? line : Number(seq),
        boot: cell('boot'),
        fw: cell('fw'),
        metrics,
      },
      line,
    ),
    label: parseLabel(cell('label'), line),
    line,
  }
}

/** RFC 4180 fields of one line: quoted fields may hold commas and `""`, not newlines. */
export function splitCsv(text: string, line: number): string[] {
  const cells: string[] = []
  let i = 0
  for (;;) {
    if (text[i] === '"') {
      let value = ''
      i++
      for (;;) {
        const quote = text.indexOf('"', i)
        if (quote < 0) throw new DatasetError('a quoted cell is not closed on its line', line)
        value += text.slice(i, quote)
        if (text[quote + 1] === '"') {
          value += '"'
          i = quote + 2
        } else {
          i = quote + 1
          break
        }
      }
      cells.push(value)
      if (i < text.length && text[i] !== ',')
        throw new DatasetError(`unexpected text after a quoted cell`, line)
    } else {
      const comma = text.indexOf(',', i)
      cells.push(text.slice(i, comma < 0 ? text.length : comma))
      i = comma < 0 ? text.length : comma
    }
    if (i >= text.length) return cells
    i++ // the comma
    if (i === text.length) {
      cells.push('')
      return cells
    }
  }
}

function toReading(candidate: Record<string, unknown>, line: number): Reading {
  for (const key of Object.keys(candidate)) if (candidate[key] === undefined) delete candidate[key]
  const parsed = TelemetrySchema.safeParse(candidate)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new DatasetError(`${issue?.path.join('.') || '(row)'}: ${issue?.message ?? 'invalid'}`, line)
  }
  const { deviceId, ts, seq, boot, metrics, fw } = parsed.data
  const reading: Reading = { deviceId, boot: boot ?? '', seq, ts, metrics }
  if (fw !== undefined) reading.fw = fw
  return reading
}

const LABELS = new Map<unknown, boolean>([
  [true, true],
  [1, true],
  ['1', true],
  ['true', true],
  ['anomaly', true],
  [false, false],
  [0, false],
  ['0', false],
  ['false', false],
  ['normal', false],
])

function parseLabel(value: unknown, line: number): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined
  const label = LABELS.get(typeof value === 'string' ? value.trim().toLowerCase() : value)
  if (label === undefined)
    throw new DatasetError(`label: ${JSON.stringify(value)} is not 1/true/anomaly or 0/false/normal`, line)
  return label
}
