/**
 * The ports: small structural interfaces the core depends on. Every cloud, store, broker and
 * alert channel is an adapter that implements one of these; the core imports nothing else.
 */
import type { AlertTransition } from './alerts.ts'
import type { Model } from './model.ts'
import type { QuarantineEntry } from './quarantine.ts'
import type { Reading, Status } from './wire.ts'

/** Per reading, what the store made of it. */
export type WriteOutcome =
  | { status: 'stored' }
  | { status: 'duplicate' }
  | { status: 'rejected'; reason: string; message: string }

export interface TelemetryStore {
  /**
   * Writes readings the core has found new (dedupe is the core's, by a window kept in the
   * StateStore). Returns one outcome per reading, in order: `duplicate` when the store can tell the
   * reading was already there, `rejected` when it refuses one (it is then quarantined).
   * Throws only for transient failures (the whole call may be retried).
   */
  write(readings: readonly Reading[]): Promise<WriteOutcome[]>
  /**
   * Whether each reading is already stored. Asked only for readings too old for the dedupe
   * window; a store that cannot answer cheaply leaves it out, and such readings are written again.
   */
  has?(readings: readonly Reading[]): Promise<boolean[]>
  /** Records a device's birth or last will. */
  writeStatus(statuses: readonly StatusUpdate[]): Promise<void>
}

export interface StatusUpdate extends Status {
  receivedAt: number
}

/** A versioned value; `version` is 0 for a key never saved. */
export interface Versioned<T> {
  value: T | undefined
  version: number
}

/**
 * Compact state for rules and alerts, saved with optimistic concurrency: a save whose expected
 * version is stale is refused, so two concurrent invocations cannot both advance one key.
 */
export interface StateStore {
  /** Values are the caller's to change: a fresh copy per load, as a database deserializes one. */
  load<T>(keys: readonly string[]): Promise<Map<string, Versioned<T>>>
  /** Saves all entries whose version still matches; returns the keys that conflicted (not saved). */
  save<T>(entries: readonly { key: string; value: T; expectedVersion: number }[]): Promise<string[]>
  /** The saved keys that start with `prefix`, a page at a time: the heartbeat sweep walks devices with it. */
  keys?(prefix: string): AsyncIterable<string[]>
}

export interface Quarantine {
  put(entries: readonly QuarantineEntry[]): Promise<void>
}

export interface AlertSink {
  /** Receives each alert transition once it is decided (opened, escalated, cleared). */
  publish(transitions: readonly AlertTransition[]): Promise<void>
}

export interface DeviceCommand {
  deviceId: string
  /** e.g. `safe-mode`, `set-interval`, `reboot`. */
  command: string
  args?: Record<string, unknown>
  /** Idempotency key a device can use to ignore a repeated command. */
  id: string
  reason?: string
}

export interface CommandPublisher {
  send(commands: readonly DeviceCommand[]): Promise<void>
}

export interface PipelineRun {
  /** Names the run so a repeated trigger starts it once (e.g. a Step Functions execution name). */
  idempotencyKey: string
  reason: 'dataset' | 'drift' | 'manual'
  detail: Record<string, unknown>
}

/** Starts a retraining or processing pipeline (Step Functions, EventBridge, or a local runner). */
export interface PipelineTrigger {
  start(run: PipelineRun): Promise<void>
}

/**
 * Where the model-score rule finds the current (champion) model of a device type: an S3 object, a
 * local folder. Implementations cache and refresh; undefined while a type has no model yet.
 */
export interface ModelSource {
  current(deviceType: string): Promise<Model | undefined>
}

export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }
