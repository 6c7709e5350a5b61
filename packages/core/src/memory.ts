/**
 * In-memory adapters for every port: the reference implementation the conformance suite and the
 * core's own tests run against, and a store for tools that need no persistence.
 */
import type { AlertTransition } from './alerts.ts'
import type {
  AlertSink,
  Clock,
  CommandPublisher,
  DeviceCommand,
  PipelineRun,
  PipelineTrigger,
  Quarantine,
  StateStore,
  StatusUpdate,
  TelemetryStore,
  Versioned,
  WriteOutcome,
} from './ports.ts'
import type { QuarantineEntry } from './quarantine.ts'
import { type Reading, readingKey } from './wire.ts'

export class MemoryTelemetryStore implements TelemetryStore {
  readonly rows = new Map<string, Reading>()
  readonly statuses: StatusUpdate[] = []

  async write(readings: readonly Reading[]): Promise<WriteOutcome[]> {
    return readings.map((reading) => {
      const key = readingKey(reading)
      if (this.rows.has(key)) return { status: 'duplicate' }
      this.rows.set(key, reading)
      return { status: 'stored' }
    })
  }

  async has(readings: readonly Reading[]): Promise<boolean[]> {
    return readings.map((reading) => this.rows.has(readingKey(reading)))
  }

  async writeStatus(statuses: readonly StatusUpdate[]): Promise<void> {
    this.statuses.push(...statuses)
  }
}

/**
 * Keeps saved values serialized, as a database does: a load hands out a fresh copy the caller may
 * change, a save keeps what JSON keeps (no `undefined`), and nothing saved is shared with the caller.
 */
export class MemoryStateStore implements StateStore {
  readonly entries = new Map<string, { value: string; version: number }>()

  async load<T>(keys: readonly string[]): Promise<Map<string, Versioned<T>>> {
    const out = new Map<string, Versioned<T>>()
    for (const key of keys) {
      const entry = this.entries.get(key)
      out.set(
        key,
        entry
          ? { value: JSON.parse(entry.value) as T, version: entry.version }
          : { value: undefined, version: 0 },
      )
    }
    return out
  }

  async save<T>(entries: readonly { key: string; value: T; expectedVersion: number }[]): Promise<string[]> {
    const conflicts: string[] = []
    for (const { key, value, expectedVersion } of entries) {
      const version = this.entries.get(key)?.version ?? 0
      if (version !== expectedVersion) conflicts.push(key)
      else this.entries.set(key, { value: JSON.stringify(value), version: version + 1 })
    }
    return conflicts
  }

  async *keys(prefix: string): AsyncIterable<string[]> {
    const keys = [...this.entries.keys()].filter((key) => key.startsWith(prefix)).sort()
    if (keys.length > 0) yield keys
  }
}

export class MemoryQuarantine implements Quarantine {
  readonly entries: QuarantineEntry[] = []
  async put(entries: readonly QuarantineEntry[]): Promise<void> {
    this.entries.push(...entries)
  }
}

export class MemoryAlertSink implements AlertSink {
  readonly transitions: AlertTransition[] = []
  async publish(transitions: readonly AlertTransition[]): Promise<void> {
    this.transitions.push(...transitions)
  }
}

export class MemoryCommandPublisher implements CommandPublisher {
  readonly sent: DeviceCommand[] = []
  async send(commands: readonly DeviceCommand[]): Promise<void> {
    this.sent.push(...commands)
  }
}

export class MemoryPipelineTrigger implements PipelineTrigger {
  readonly runs = new Map<string, PipelineRun>()
  async start(run: PipelineRun): Promise<void> {
    if (!this.runs.has(run.idempotencyKey)) this.runs.set(run.idempotencyKey, run)
  }
}

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  constructor(private time: number) {}
  now(): number {
    return this.time
  }
  advance(ms: number): void {
    this.time += ms
  }
  set(time: number): void {
    this.time = time
  }
}

/** Every port in memory, ready to hand to `ingest`. */
export function memoryDeps(clock: Clock) {
  return {
    store: new MemoryTelemetryStore(),
    state: new MemoryStateStore(),
    quarantine: new MemoryQuarantine(),
    alerts: new MemoryAlertSink(),
    commands: new MemoryCommandPublisher(),
    clock,
  }
}
