import { type AlertTransition, advance, emptyAlertState } from '@fleetpipe/core'
import { NOW, overTemperature as overTemperatureRules } from '../../core/test/_fixtures.ts'
import type { PublishMessage, PublishTopic } from '../src/index.ts'

export { NOW }

/** Retries without waiting. */
export const noWait = { sleep: async () => {} }

const [overTemperature] = overTemperatureRules

/** Real transitions from the core's alert lifecycle: the device overheats (opened, with `safe-mode`), then cools (cleared). */
export function overheatAndCool(deviceId = 'esp32-0001', at = NOW): AlertTransition[] {
  if (!overTemperature) throw new Error('fixture rule missing')
  const state = emptyAlertState()
  advance(state, overTemperature, deviceId, at, 85.2)
  advance(state, overTemperature, deviceId, at + 60_000, 71.4)
  return state.outbox
}

/** A gRPC failure as google-gax reports it: `code` is the numeric status. */
export function grpcError(code: number, name: string): Error {
  return Object.assign(new Error(`${code} ${name}: from the test`), { code, details: 'from the test' })
}

/**
 * The Pub/Sub boundary: records every publishMessage call (attempts included), fails the next calls
 * with `failures`, and can hold a message back to show ordering does not depend on timing.
 */
export class RecordingTopic implements PublishTopic {
  readonly calls: PublishMessage[] = []
  failures: unknown[] = []
  delay: (message: PublishMessage) => number = () => 0

  async publishMessage(message: PublishMessage): Promise<string> {
    this.calls.push(message)
    const wait = this.delay(message)
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    const failure = this.failures.shift()
    if (failure) throw failure
    return String(this.calls.length)
  }
}
