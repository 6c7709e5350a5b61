// aedes-persistence ships types for its package entry only; these are the parts of the class its
// memory persistence is built on that fleetpipe extends.
declare module 'aedes-persistence/asyncPersistence.js' {
  import type { Readable } from 'node:stream'

  /** aedes-packet: a copy of a packet as the broker queues it, numbered by the broker. */
  export class Packet {
    constructor(original: object, broker?: object)
    brokerId: string
    brokerCounter: number
    messageId?: number
  }

  export default class MemoryPersistence {
    setup(broker: unknown): Promise<void>
    storeRetained(packet: { topic: string; payload: Buffer | string }): Promise<void>
    createRetainedStream(pattern: string): Readable
    createRetainedStreamCombi(patterns: string[]): Readable
    outgoingEnqueue(sub: { clientId: string }, packet: object): Promise<void>
    outgoingEnqueueCombi(subs: { clientId: string }[], packet: object): Promise<void>
    outgoingUpdate(client: { id: string }, packet: object): Promise<void>
    outgoingClearMessageId(client: { id: string }, packet: { messageId: number }): Promise<unknown>
    outgoingStream(client: { id: string }): Readable
    destroy(): Promise<void>
  }
}
