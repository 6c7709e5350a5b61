import type { PublishMessage, PublishTopic } from '../src/index.ts'

export { NOW, overheatAndCool } from '../../core/test/_fixtures.ts'

/** Retries without waiting. */
export const noWait = { sleep: async () => {} }

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
