/**
 * The ingest use-case: a decoded batch in, one outcome per record out. Every record ends as
 * stored, duplicate, quarantined or failed (transient: the caller retries it), and the counts add
 * up: received = stored + duplicates + quarantined + failed.
 *
 * The data path: decode → drop repeats within the batch → quarantine the refused → write the
 * rest (idempotent) → apply rules in device-time order → save rule state (optimistic) → deliver
 * alert transitions and commands.
 */
import type { AlertTransition } from './alerts.ts'
import { type DecodedRecord, decode, type InboundMessage } from './decode.ts'
import { describeError } from './errors.ts'
import { applyRules } from './evaluate.ts'
import type {
  AlertSink,
  Clock,
  CommandPublisher,
  Quarantine,
  StateStore,
  StatusUpdate,
  TelemetryStore,
} from './ports.ts'
import type { QuarantineEntry, QuarantineReason } from './quarantine.ts'
import type { Rule } from './rules.ts'
import { DEFAULT_MAX_AGE_MS, type Reading, readingKey, topics, WIRE_VERSION } from './wire.ts'

export interface IngestDeps {
  store: TelemetryStore
  state: StateStore
  quarantine: Quarantine
  alerts: AlertSink
  commands: CommandPublisher
  clock: Clock
}

export interface IngestOptions {
  rules: readonly Rule[]
  /** Readings older than this many ms are out of range. */
  maxAgeMs?: number
}

export type Outcome = 'stored' | 'duplicate' | 'quarantined' | 'failed'

export interface RecordResult {
  /** Index of the inbound message this record came from (a batched message yields several). */
  message: number
  kind: 'reading' | 'status' | 'message'
  outcome: Outcome
  reason?: QuarantineReason
  path?: string
  /** Why a record failed or was quarantined, for people. */
  detail?: string
}

export interface IngestCounts {
  received: number
  stored: number
  duplicates: number
  quarantined: number
  failed: number
  /** Of `stored`, how many were status updates rather than readings. */
  statuses: number
  /** Alert transitions delivered, and commands sent with them. */
  alerts: number
  commands: number
}

export interface IngestResult {
  records: RecordResult[]
  counts: IngestCounts
  transitions: AlertTransition[]
}

type Pending<T> = { result: RecordResult; item: T }

export async function ingest(
  messages: readonly InboundMessage[],
  deps: IngestDeps,
  options: IngestOptions,
): Promise<IngestResult> {
  const decodeOptions = { now: deps.clock.now(), maxAgeMs: options.maxAgeMs ?? DEFAULT_MAX_AGE_MS }
  const records: RecordResult[] = []
  const readings: Pending<Reading>[] = []
  const statuses: Pending<StatusUpdate>[] = []
  const refused: Pending<QuarantineEntry>[] = []
  const keys = new Set<string>()

  messages.forEach((message, index) => {
    for (const record of decode(message, decodeOptions)) {
      const result = classify(record, index)
      records.push(result)
      if (record.kind === 'quarantined') refused.push({ result, item: record.entry })
      else if (record.kind === 'status') statuses.push({ result, item: record.status })
      else {
        const key = readingKey(record.reading)
        if (keys.has(key)) result.outcome = 'duplicate'
        else readings.push({ result, item: record.reading })
        keys.add(key)
      }
    }
  })

  await settle(refused, (entries) => deps.quarantine.put(entries), 'quarantined')
  await settle(statuses, (updates) => deps.store.writeStatus(updates), 'stored')
  const written = await write(readings, deps, decodeOptions.now)

  let transitions: AlertTransition[] = []
  if (written.length > 0 && options.rules.length > 0) {
    try {
      transitions = await applyRules(
        written.map((w) => w.item),
        options.rules,
        deps,
      )
    } catch (error) {
      // The readings are stored; a retry finds them duplicates and re-applies rules idempotently.
      for (const { result } of written) fail(result, error)
    }
  }
  return { records, counts: countRecords(records, transitions), transitions }
}

/** Writes readings; returns those the rules should see (new ones, and ones a retry finds stored). */
async function write(
  readings: Pending<Reading>[],
  deps: IngestDeps,
  now: number,
): Promise<Pending<Reading>[]> {
  if (readings.length === 0) return []
  let outcomes: Awaited<ReturnType<TelemetryStore['write']>>
  try {
    outcomes = await deps.store.write(readings.map((r) => r.item))
  } catch (error) {
    for (const { result } of readings) fail(result, error)
    return []
  }
  const rejected: Pending<QuarantineEntry>[] = []
  const forRules: Pending<Reading>[] = []
  readings.forEach((pending, i) => {
    const outcome = outcomes[i]
    if (!outcome) fail(pending.result, new Error('store returned no outcome for this reading'))
    else if (outcome.status === 'rejected') {
      rejected.push({ result: pending.result, item: rejectedEntry(pending.item, outcome, now) })
    } else {
      pending.result.outcome = outcome.status
      forRules.push(pending)
    }
  })
  await settle(rejected, (entries) => deps.quarantine.put(entries), 'quarantined')
  return forRules
}

/** Runs one port call for a group of records and marks each with the outcome, or failed. */
async function settle<T>(group: Pending<T>[], call: (items: T[]) => Promise<void>, outcome: Outcome) {
  if (group.length === 0) return
  try {
    await call(group.map((g) => g.item))
    for (const { result } of group) result.outcome = outcome
  } catch (error) {
    for (const { result } of group) fail(result, error)
  }
}

function classify(record: DecodedRecord, message: number): RecordResult {
  switch (record.kind) {
    case 'reading':
      return { message, kind: 'reading', outcome: 'failed' }
    case 'status':
      return { message, kind: 'status', outcome: 'failed' }
    case 'quarantined': {
      const { reason, path, message: detail } = record.entry
      return {
        message,
        kind: record.entry.path.startsWith('readings.') ? 'reading' : 'message',
        outcome: 'failed',
        reason,
        path,
        detail,
      }
    }
  }
}

function fail(result: RecordResult, error: unknown) {
  result.outcome = 'failed'
  result.detail = describeError(error)
}

function rejectedEntry(
  reading: Reading,
  outcome: { reason: string; message: string },
  now: number,
): QuarantineEntry {
  const raw = JSON.stringify({ v: WIRE_VERSION, ...reading, boot: reading.boot || undefined })
  return {
    reason: 'rejected_by_store',
    path: '',
    message: `${outcome.reason}: ${outcome.message}`,
    topic: topics.telemetry(reading.deviceId),
    deviceId: reading.deviceId,
    receivedAt: now,
    raw,
    rawEncoding: 'utf8',
    rawTruncated: false,
    source: 'store',
  }
}

export function emptyCounts(): IngestCounts {
  return {
    received: 0,
    stored: 0,
    duplicates: 0,
    quarantined: 0,
    failed: 0,
    statuses: 0,
    alerts: 0,
    commands: 0,
  }
}

/** Counts records by outcome, and the transitions delivered with them. */
export function countRecords(
  records: readonly RecordResult[],
  transitions: readonly AlertTransition[],
): IngestCounts {
  const counts = emptyCounts()
  counts.received = records.length
  counts.alerts = transitions.length
  counts.commands = transitions.filter((t) => t.command).length
  for (const r of records) {
    if (r.outcome === 'stored') {
      counts.stored++
      if (r.kind === 'status') counts.statuses++
    } else if (r.outcome === 'duplicate') counts.duplicates++
    else if (r.outcome === 'quarantined') counts.quarantined++
    else counts.failed++
  }
  return counts
}
