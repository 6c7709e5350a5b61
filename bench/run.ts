/**
 * `npm run bench`: throughput of the hot paths, printed as figures (never asserted in tests).
 *
 *   json-parse   JSON.parse alone over realistic telemetry messages: the ceiling
 *   core-path    decode + validate + dedupe + rules + encode for the store, no I/O
 *   core-path, no rules   the same without rules: what the rules cost is the difference
 *   core-path, state as JSON   the same with each device's state serialized and read back, as a
 *                store does: what the state's layout costs beyond the core path's own work
 *   store        readings/s written through the PostgreSQL adapter to embedded PGlite, on disk as
 *                `fleetpipe dev` keeps it (COPY), and in memory as tests open it (INSERT … unnest)
 *
 * Targets: core-path ≥ 40 % of json-parse; embedded store (on disk) ≥ 150k rows/s.
 */

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  defaultRules,
  type InboundMessage,
  ingest,
  type Reading,
  type Rule,
  type StateStore,
  type TelemetryStore,
  type Versioned,
  type WriteOutcome,
} from '@fleetpipe/core'
import { ManualClock, MemoryStateStore, memoryDeps } from '@fleetpipe/core/memory'
import { SimDevice, seedFor } from '@fleetpipe/firmware-sim'
import { encodeReadings, openDatabase } from '@fleetpipe/postgres'

const BATCH = 500
const DEVICES = 1_000
const NOW = Date.now()

/** The fleet the messages come from: the simulator's motor nodes, their sensor models and noise. */
const fleet = Array.from(
  { length: DEVICES },
  (_, i) => new SimDevice({ deviceId: `esp32-${String(i).padStart(4, '0')}`, seed: seedFor(7, i) }),
)

/**
 * Message `n` is device `n % DEVICES`'s reading of second `n / DEVICES`, as the simulator publishes
 * it; 1 % of the devices overheat for 2 s in every 100, so alerts open and clear.
 */
function messages(count: number, offset = 0): InboundMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const n = offset + i
    const device = fleet[n % DEVICES] as SimDevice
    const second = Math.floor(n / DEVICES)
    if (n % DEVICES < DEVICES / 100 && second % 100 === 0) device.startOverheat(2)
    const payload = JSON.stringify(device.nextReading(NOW - 3_600_000 + second * 1_000))
    return {
      // Decoded from bytes, as a broker client hands it over (a flat string, not a concatenation).
      topic: Buffer.from(`fleet/${device.deviceId}/telemetry`).toString(),
      payload: Buffer.from(payload),
      receivedAt: NOW,
      source: 'bench',
    }
  })
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
const collectGarbage = () => (globalThis as { gc?: () => void }).gc?.()

/** The PostgreSQL adapter up to its I/O: it encodes the rows for the INSERT, then stops. */
class EncodingStore implements TelemetryStore {
  async write(readings: readonly Reading[]): Promise<WriteOutcome[]> {
    encodeReadings(readings)
    return readings.map(() => ({ status: 'stored' }))
  }
  async writeStatus(): Promise<void> {}
}

/**
 * State kept as live objects, under the same version check: a real store's (de)serialization is
 * I/O-side cost, as the store's write is. Safe here because no invocation fails half-way. A save
 * changes the entry in place: ingest reads a loaded entry's version before it saves.
 */
class LiveStateStore implements StateStore {
  readonly entries = new Map<string, Versioned<unknown>>()
  async load<T>(keys: readonly string[]): Promise<Map<string, Versioned<T>>> {
    const out = new Map<string, Versioned<T>>()
    for (const key of keys) {
      const entry = this.entries.get(key)
      if (entry) out.set(key, entry as Versioned<T>)
    }
    return out
  }
  async save<T>(entries: readonly { key: string; value: T; expectedVersion: number }[]): Promise<string[]> {
    const conflicts: string[] = []
    for (const { key, value, expectedVersion } of entries) {
      const entry = this.entries.get(key)
      if ((entry?.version ?? 0) !== expectedVersion) conflicts.push(key)
      else if (entry) {
        entry.value = value
        entry.version++
      } else this.entries.set(key, { value, version: 1 })
    }
    return conflicts
  }
}

/**
 * JSON.parse alone, then the core path, round after round on the same fresh messages: a slow
 * moment of a shared machine slows both sides of a round's ratio alike. Medians of the rounds.
 */
async function parseAndCore(
  state: StateStore,
  rules: readonly Rule[] = defaultRules,
): Promise<{ parse: number; core: number; ratio: number }> {
  const total = 20_000
  const warmup = 2
  const times = 12
  // Fresh readings for every round, made before timing: each one is new and rules see a moving series.
  const rounds = Array.from({ length: warmup + times }, (_, r) => messages(total, r * total))
  const deps = {
    ...memoryDeps(new ManualClock(NOW)),
    store: new EncodingStore(),
    state,
  }
  const decoder = new TextDecoder()
  const parse: number[] = []
  const core: number[] = []
  const ratio: number[] = []
  for (const [r, batch] of rounds.entries()) {
    // Garbage from preparing the inputs is collected before measuring, not charged to the rounds.
    if (r === warmup) collectGarbage()
    let start = performance.now()
    for (const m of batch) JSON.parse(decoder.decode(m.payload as Uint8Array))
    const parseMs = performance.now() - start
    start = performance.now()
    for (let i = 0; i < batch.length; i += BATCH) {
      await ingest(batch.slice(i, i + BATCH), deps, { rules })
    }
    const coreMs = performance.now() - start
    if (r < warmup) continue
    parse.push((total / parseMs) * 1_000)
    core.push((total / coreMs) * 1_000)
    ratio.push(parseMs / coreMs)
  }
  return { parse: median(parse), core: median(core), ratio: median(ratio) }
}

async function store(dataDir?: string): Promise<number> {
  const db = await openDatabase({ dataDir })
  const rows = 10_000
  const warmup = 2
  const times = 15
  // Readings made before timing; the adapter's encoding and the INSERTs are what is measured.
  const rounds = Array.from({ length: warmup + times }, (_, r) =>
    Array.from({ length: rows }, (_, i): Reading => {
      const n = r * rows + i
      return {
        deviceId: `esp32-${String(n % DEVICES).padStart(4, '0')}`,
        boot: 'a1b2c3d4',
        seq: Math.floor(n / DEVICES),
        ts: NOW - 3_600_000 + n,
        metrics: { temperature: 23.5, vibration: 0.12, current: 4.2 },
        fw: '1.4.2',
      }
    }),
  )
  try {
    const rates: number[] = []
    for (const [r, readings] of rounds.entries()) {
      if (r === warmup) collectGarbage()
      const start = performance.now()
      for (let i = 0; i < rows; i += 1_000) await db.telemetry.write(readings.slice(i, i + 1_000))
      if (r >= warmup) rates.push((rows / (performance.now() - start)) * 1_000)
    }
    return median(rates)
  } finally {
    await db.close()
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

// `--core-only`: the first two lines alone, for a quick look while changing the core.
const coreOnly = process.argv.includes('--core-only')
const { parse, core, ratio } = await parseAndCore(new LiveStateStore())
// Without rules: what the rules cost is the difference.
const noRules = coreOnly ? Number.NaN : (await parseAndCore(new LiveStateStore(), [])).ratio
// The in-memory StateStore keeps each state as a JSON string, as a real store keeps it serialized.
const jsonState = coreOnly ? Number.NaN : (await parseAndCore(new MemoryStateStore())).core
const memory = coreOnly ? Number.NaN : await store()
const dir = await mkdtemp(join(tmpdir(), 'fleetpipe-bench-'))
const disk = coreOnly ? Number.NaN : await store(dir)
await rm(dir, { recursive: true, force: true })

const results = {
  jsonParseMsgsPerSec: Math.round(parse),
  corePathMsgsPerSec: Math.round(core),
  coreToParseRatio: Math.round(ratio * 1000) / 1000,
  corePathJsonStateMsgsPerSec: Math.round(jsonState),
  coreWithoutRulesToParseRatio: Math.round(noRules * 1000) / 1000,
  storeRowsPerSecInMemory: Math.round(memory),
  storeRowsPerSecOnDisk: Math.round(disk),
}

console.log(
  `fleetpipe bench — node ${process.version}, batches of ${BATCH}, ${DEVICES} devices, 3 metrics per reading`,
)
console.log(`  JSON.parse only          ${fmt(parse).padStart(12)} msgs/s`)
console.log(
  `  core path (no I/O)       ${fmt(core).padStart(12)} msgs/s   ${(results.coreToParseRatio * 100).toFixed(1)} % of JSON.parse (target ≥ 40 %)`,
)
if (!coreOnly) {
  console.log(
    `  core path, no rules      ${(results.coreWithoutRulesToParseRatio * 100).toFixed(1).padStart(12)} % of JSON.parse   (what the rules cost is the difference)`,
  )
  console.log(
    `  core path, state as JSON ${fmt(jsonState).padStart(12)} msgs/s   (each state serialized and read back)`,
  )
  console.log(
    `  store, PGlite on disk    ${fmt(disk).padStart(12)} rows/s   (target ≥ 150,000; as fleetpipe dev keeps it)`,
  )
  console.log(`  store, PGlite in memory  ${fmt(memory).padStart(12)} rows/s   (as tests open it)`)
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results))
