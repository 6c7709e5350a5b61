/**
 * The ingest use-case: a decoded batch in, one outcome per record out. Every record ends as
 * stored, duplicate, quarantined or failed (transient: the caller retries it), and the counts add
 * up: received = stored + duplicates + quarantined + failed.
 *
 * The data path: decode → quarantine the refused → load each device's state → dedupe against its
 * window → write the new readings → apply rules in device-time order → save the states (version
 * check) → deliver alert transitions and commands from the saved outboxes.
 */
import { type AlertTransition, alertsOf, emptyRulesState, findSlot, isOpen } from './alerts.ts'
import { type DecodedRecord, decodeMessage, type InboundMessage } from './decode.ts'
import { type Context, noModels } from './detectors.ts'
import {
  applyRules,
  type DeviceState,
  draftOf,
  hasPendingTransitions,
  pendingTransitions,
  seeReading,
  transitionKey,
  withoutDelivered,
} from './device-state.ts'
import { describeError, StateConflictError, TransientError } from './errors.ts'
import { checkSilence } from './heartbeat.ts'
import { DEVICE_STATE_PREFIX, type KnownDevice, knownDevice, watchersOf } from './known-devices.ts'
import type { Model } from './model.ts'
import type {
  AlertSink,
  Clock,
  CommandPublisher,
  DeviceCommand,
  ModelSource,
  Quarantine,
  StateStore,
  StatusUpdate,
  TelemetryStore,
} from './ports.ts'
import type { QuarantineEntry, QuarantineReason } from './quarantine.ts'
import { type Rule, type RuleOf, selects } from './rules.ts'
import { DEFAULT_MAX_AGE_MS, type Reading, topics, WIRE_VERSION } from './wire.ts'

export interface IngestDeps {
  store: TelemetryStore
  state: StateStore
  quarantine: Quarantine
  alerts: AlertSink
  commands: CommandPublisher
  clock: Clock
  /** Champion models for the model-score rule; without it, model-score rules see no model and stay quiet. */
  models?: ModelSource
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

/** Readings and their results, side by side: the hot path allocates no pair per reading. */
interface Readings {
  items: Reading[]
  results: RecordResult[]
}

const noReadings = (): Readings => ({ items: [], results: [] })

/** Adds a reading to its device's group. */
function addTo(byDevice: Map<string, Device>, reading: Reading, result: RecordResult) {
  const device = byDevice.get(reading.deviceId)
  if (device) {
    device.items.push(reading)
    device.results.push(result)
  } else byDevice.set(reading.deviceId, deviceOf(reading.deviceId, [reading], [result]))
}

/** A device of the batch: its readings, grouped as they are decoded, then its state as loaded. */
interface Device extends Readings {
  id: string
  key: string
  known: KnownDevice
  /** The state to change: see draftOf. Set by `load`. */
  draft: DeviceState
  /** Version of the state the draft was made from. */
  version: number
  /** The readings this invocation stored that the rules have yet to see. */
  forRules: readonly Reading[]
  /** Transitions already in the outbox as loaded: another invocation's to deliver, unless stale. */
  inherited: ReadonlySet<AlertTransition>
  /**
   * Transitions this invocation put in the outboxes. With `inherited`, it tells whether any outbox
   * holds transitions without looking through every rule's.
   */
  added: number
}

/** Stands for a device's state until `load` sets it. */
const UNLOADED: DeviceState = Object.freeze({ rules: Object.freeze(emptyRulesState()) })
const NONE: ReadonlySet<AlertTransition> = new Set()

function deviceOf(id: string, items: Reading[] = [], results: RecordResult[] = []): Device {
  const known = knownDevice(id)
  return {
    id,
    key: known.key,
    known,
    items,
    results,
    draft: UNLOADED,
    version: 0,
    forRules: [],
    inherited: NONE,
    added: 0,
  }
}

const MAX_ATTEMPTS = 3
/**
 * An outbox left holding transitions this long was left by an invocation that died before
 * delivering: whoever loads the device next delivers them. Younger ones are their invocation's own.
 */
export const STALE_OUTBOX_MS = 60_000

export async function ingest(
  messages: readonly InboundMessage[],
  deps: IngestDeps,
  options: IngestOptions,
): Promise<IngestResult> {
  const now = deps.clock.now()
  const decodeOptions = { now, maxAgeMs: options.maxAgeMs ?? DEFAULT_MAX_AGE_MS }
  const records: RecordResult[] = []
  const byDevice = new Map<string, Device>()
  const statuses: Pending<StatusUpdate>[] = []
  const refused: Pending<QuarantineEntry>[] = []

  for (let index = 0; index < messages.length; index++) {
    const decoded = decodeMessage(messages[index] as InboundMessage, decodeOptions)
    if (!Array.isArray(decoded)) {
      // The common case: one valid reading.
      const result = readingResult(index)
      records.push(result)
      addTo(byDevice, decoded, result)
      continue
    }
    for (const record of decoded) {
      const result = classify(record, index)
      records.push(result)
      if (record.kind === 'quarantined') refused.push({ result, item: record.entry })
      else if (record.kind === 'status') statuses.push({ result, item: record.status })
      else addTo(byDevice, record.reading, result)
    }
  }

  await settle(refused, (entries) => deps.quarantine.put(entries), 'quarantined')
  await settle(statuses, (updates) => deps.store.writeStatus(updates), 'stored')
  const heard = heardStatuses(statuses, options.rules)
  for (const id of heard.keys()) if (!byDevice.has(id)) byDevice.set(id, deviceOf(id))
  let transitions: AlertTransition[] = []
  if (byDevice.size > 0) {
    try {
      transitions = await ingestReadings(byDevice, heard, deps, options, now)
    } catch (error) {
      // Failed before the state save: a retry finds these readings new and writes them again.
      // Failed after it (delivering): a retry finds them seen, and delivers what the outbox holds.
      for (const { results } of byDevice.values()) {
        for (const result of results)
          if (result.outcome !== 'quarantined' && result.outcome !== 'duplicate') fail(result, error)
      }
    }
  }
  return { records, counts: countRecords(records, transitions), transitions }
}

/** Dedupe, write, rules, save, deliver: for readings grouped by device. Throws on transient failures. */
async function ingestReadings(
  byDevice: Map<string, Device>,
  heard: Map<string, StatusUpdate[]>,
  deps: IngestDeps,
  options: IngestOptions,
  now: number,
): Promise<AlertTransition[]> {
  const pending = [...byDevice.values()]
  const [, context] = await Promise.all([load(pending, deps.state), contextFor(options.rules, deps.models)])

  const fresh = noReadings()
  const unknown = noReadings()
  for (const device of pending) {
    const { items, results } = device
    for (let i = 0; i < items.length; i++) {
      const reading = items[i] as Reading
      const result = results[i] as RecordResult
      const verdict = seeReading(device.draft, reading)
      if (verdict === 'duplicate') result.outcome = 'duplicate'
      else {
        const to = verdict === 'new' ? fresh : unknown
        to.items.push(reading)
        to.results.push(result)
      }
    }
  }
  // Older than the window: the store decides; a store that cannot tell gets them again, and
  // writes them idempotently where it can.
  if (unknown.items.length > 0) {
    const known = deps.store.has ? await deps.store.has(unknown.items) : []
    unknown.items.forEach((reading, i) => {
      const result = unknown.results[i] as RecordResult
      if (known[i]) result.outcome = 'duplicate'
      else {
        fresh.items.push(reading)
        fresh.results.push(result)
      }
    })
  }
  await write(fresh, deps, now)
  for (const device of pending) device.forRules = storedBy(device)

  const saved = await commit(
    pending,
    deps.state,
    now,
    (device) =>
      applyRules(
        device.draft,
        device.id,
        device.forRules,
        watchersOf(device.known, options.rules),
        context,
        heard.size === 0 ? undefined : heard.get(device.id),
      ),
    // Another invocation moved the device on: what it has seen already, it has applied to the rules already.
    (device) => {
      device.forRules = storedBy(device).filter((r) => seeReading(device.draft, r) !== 'duplicate')
    },
  )
  return deliver(saved, deps, now)
}

/**
 * Applies `apply` to each device's draft and saves the drafts with a version check; a device whose
 * state another invocation changed meanwhile is loaded again, `reapply`-ed, and tried again.
 * `apply` answers how many transitions it put in the draft's outboxes.
 */
async function commit(
  devices: Device[],
  state: StateStore,
  now: number,
  apply: (device: Device) => number,
  reload?: (device: Device) => void,
): Promise<Device[]> {
  const saved: Device[] = []
  let pending = devices
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > MAX_ATTEMPTS) {
      throw new StateConflictError(`device state kept changing, e.g. ${pending[0]?.key}`)
    }
    for (const device of pending) {
      device.added = apply(device)
      if (device.draft.pendingSince === undefined && holdsTransitions(device)) device.draft.pendingSince = now
    }
    const conflicts = new Set(
      await state.save(pending.map((d) => ({ key: d.key, value: d.draft, expectedVersion: d.version }))),
    )
    for (const device of pending) {
      if (conflicts.has(device.key)) continue
      device.version++
      saved.push(device)
    }
    pending = pending.filter((d) => conflicts.has(d.key))
    await load(pending, state)
    if (reload) for (const device of pending) reload(device)
  }
  return saved
}

/**
 * The heartbeat sweep: opens a missing-heartbeat alert for each of the devices that has been silent
 * for longer than a rule allows, at `deps.clock.now()`, and delivers it as ingest does. Run it on a
 * timer over every device (`sweepFleet`), or over known ids.
 */
export async function sweep(
  deps: IngestDeps,
  options: IngestOptions,
  deviceIds: readonly string[],
): Promise<AlertTransition[]> {
  const rules = options.rules.filter((r): r is RuleOf<'heartbeat'> => r.kind === 'heartbeat')
  if (rules.length === 0 || deviceIds.length === 0) return []
  const now = deps.clock.now()
  const devices = deviceIds.map((id) => deviceOf(id))
  await load(devices, deps.state)
  const silent = (device: Device) =>
    rules.some((rule) => {
      const at = findSlot(device.draft.rules, rule.id)
      return at !== undefined && !isOpen(device.draft.rules, at) && selects(rule, device.id)
    })
  // The sweep also delivers what a crashed invocation left in an outbox.
  const due = devices.filter((d) => silent(d) || isStale(d.draft, now))
  const saved = await commit(due, deps.state, now, (device) => {
    let added = 0
    const state = device.draft.rules
    for (const rule of rules) {
      const at = findSlot(state, rule.id)
      if (at === undefined || !selects(rule, device.id)) continue
      const before = alertsOf(state, rule.id).outbox.length
      checkSilence(state, at, rule, device.id, now)
      added += alertsOf(state, rule.id).outbox.length - before
    }
    return added
  })
  return deliver(saved, deps, now)
}

/** `sweep` over every device the state store knows, a page at a time. */
export async function sweepFleet(deps: IngestDeps, options: IngestOptions): Promise<AlertTransition[]> {
  if (!deps.state.keys) throw new Error('this state store cannot list devices, so it cannot sweep')
  if (!options.rules.some((r) => r.kind === 'heartbeat')) return []
  const transitions: AlertTransition[] = []
  for await (const keys of deps.state.keys(DEVICE_STATE_PREFIX)) {
    const ids = keys.map((key) => key.slice(DEVICE_STATE_PREFIX.length))
    transitions.push(...(await sweep(deps, options, ids)))
  }
  return transitions
}

/** Stored status messages by device, when a heartbeat rule listens for them. */
function heardStatuses(
  statuses: Pending<StatusUpdate>[],
  rules: readonly Rule[],
): Map<string, StatusUpdate[]> {
  const heard = new Map<string, StatusUpdate[]>()
  if (!rules.some((r) => r.kind === 'heartbeat')) return heard
  for (const { result, item } of statuses) {
    if (result.outcome !== 'stored') continue
    const list = heard.get(item.deviceId)
    if (list) list.push(item)
    else heard.set(item.deviceId, [item])
  }
  return heard
}

/** The champion models the batch's model-score rules need. */
async function contextFor(rules: readonly Rule[], models: ModelSource | undefined): Promise<Context> {
  if (!models) return noModels
  const types = new Set(rules.flatMap((r) => (r.kind === 'model-score' ? [r.deviceType] : [])))
  if (types.size === 0) return noModels
  const loaded = new Map<string, Model>()
  await Promise.all(
    [...types].map(async (type) => {
      const model = await models.current(type)
      if (model) loaded.set(type, model)
    }),
  )
  return { models: loaded }
}

/** Loads the devices' states (again, after another invocation changed them) into their drafts. */
async function load(devices: readonly Device[], state: StateStore): Promise<void> {
  if (devices.length === 0) return
  const loaded = await state.load<DeviceState>(devices.map((d) => d.key))
  for (const device of devices) {
    const saved = loaded.get(device.key)
    const draft = draftOf(saved?.value)
    device.draft = draft
    device.version = saved?.version ?? 0
    device.inherited = hasPendingTransitions(draft) ? new Set(pendingTransitions(draft)) : NONE
  }
}

/** Whether any of the device's outboxes holds transitions: inherited ones, or ones it added. */
function holdsTransitions(device: Device): boolean {
  return device.added > 0 || device.inherited.size > 0
}

function storedBy({ items, results }: Device): readonly Reading[] {
  let stored: Reading[] | undefined
  for (let i = 0; i < items.length; i++) {
    if ((results[i] as RecordResult).outcome === 'stored') stored?.push(items[i] as Reading)
    // Mostly every reading is stored, and the group itself is the answer: copy only when one is not.
    else stored ??= items.slice(0, i)
  }
  return stored ?? items
}

/**
 * Delivers the transitions this invocation added to the saved outboxes — and those a crashed
 * invocation left there (older than STALE_OUTBOX_MS) — then takes them out of the saved states. A
 * concurrent invocation that loaded the device meanwhile leaves them to us, so in a race each
 * transition is delivered once; after a crash, at least once.
 */
async function deliver(devices: Device[], deps: IngestDeps, now: number): Promise<AlertTransition[]> {
  const due: Device[] = []
  const transitions: AlertTransition[] = []
  for (const device of devices) {
    if (!holdsTransitions(device)) continue
    const stale = isStale(device.draft, now) && device.inherited.size > 0
    const mine = pendingTransitions(device.draft).filter((t) => stale || !device.inherited.has(t))
    if (mine.length === 0) continue
    due.push(device)
    transitions.push(...mine)
  }
  if (due.length === 0) return []
  try {
    await deps.alerts.publish(transitions)
    const commands = transitions.map((t) => t.command).filter((c): c is DeviceCommand => c !== undefined)
    if (commands.length > 0) await deps.commands.send(commands)
  } catch (error) {
    // Give the outboxes up at once, so the retry delivers them rather than wait for them to go stale.
    await deps.state
      .save(
        due.map((d) => ({ key: d.key, value: { ...d.draft, pendingSince: 0 }, expectedVersion: d.version })),
      )
      .catch(() => {})
    throw error
  }

  const sent = new Set(transitions.map(transitionKey))
  let pending = due
  for (let attempt = 1; pending.length > 0 && attempt <= MAX_ATTEMPTS; attempt++) {
    const conflicts = new Set(
      await deps.state.save(
        pending.map((d) => ({
          key: d.key,
          value: withoutDelivered(d.draft, sent),
          expectedVersion: d.version,
        })),
      ),
    )
    // Changed meanwhile: take the delivered transitions out of the state as it now is. Failing that,
    // they stay and go again once stale: at least once.
    pending = pending.filter((d) => conflicts.has(d.key))
    await load(pending, deps.state)
  }
  return transitions
}

function isStale(state: DeviceState, now: number): boolean {
  return state.pendingSince !== undefined && now - state.pendingSince >= STALE_OUTBOX_MS
}

/**
 * Writes new readings; the store's verdict settles each one (a rejection quarantines it). A reading
 * left unsettled fails the batch before any state is saved: saving would mark it seen, and its
 * retry would be taken for a duplicate and lost.
 */
async function write({ items, results }: Readings, deps: IngestDeps, now: number): Promise<void> {
  if (items.length === 0) return
  const outcomes = await deps.store.write(items)
  const rejected: Pending<QuarantineEntry>[] = []
  for (let i = 0; i < items.length; i++) {
    const outcome = outcomes[i]
    const result = results[i] as RecordResult
    if (!outcome) fail(result, new Error('store returned no outcome for this reading'))
    else if (outcome.status === 'rejected') {
      rejected.push({ result, item: rejectedEntry(items[i] as Reading, outcome, now) })
    } else result.outcome = outcome.status
  }
  await settle(rejected, (entries) => deps.quarantine.put(entries), 'quarantined')
  const unsettled = results.find((r) => r.outcome === 'failed')
  if (unsettled) throw new TransientError(unsettled.detail ?? 'a reading was not settled')
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
      return readingResult(message)
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

/** A reading's result, failed until settled. */
function readingResult(message: number): RecordResult {
  return { message, kind: 'reading', outcome: 'failed' }
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
