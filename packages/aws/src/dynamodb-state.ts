import { BatchGetCommand, type DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb'
import { chunk, forEachBounded, type StateStore, TransientError, type Versioned } from '@fleetpipe/core'
import { errorName, type RetryPolicy, withRetry } from './_transient.ts'

export interface DynamoDbStateOptions {
  /** A table with the string partition key `pk` and TTL on `expiresAt`. */
  table: string
  /** How long a key outlives its last save. 30 days unless told. */
  ttlSeconds?: number
  /** BatchGet and Put calls in flight at once. */
  maxParallel?: number
  /** Epoch ms, for `expiresAt`. */
  now?: () => number
  retry?: RetryPolicy
}

/** https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html */
const MAX_KEYS_PER_BATCH_GET = 100

interface Item {
  pk: string
  value: unknown
  version: number
}

/**
 * Rule and dedupe state in DynamoDB, saved with optimistic concurrency: a new key is put only if no
 * item has it, a known key only at the expected version. Items expire `ttlSeconds` after their last
 * save. An expired item that TTL has not deleted yet (it may take days) is still loaded as it is:
 * calling it absent would make every save of it conflict.
 */
export class DynamoDbStateStore implements StateStore {
  private readonly ttlSeconds: number
  private readonly maxParallel: number
  private readonly now: () => number
  private readonly retry: RetryPolicy

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly options: DynamoDbStateOptions,
  ) {
    this.ttlSeconds = options.ttlSeconds ?? 30 * 24 * 60 * 60
    this.maxParallel = options.maxParallel ?? 8
    this.now = options.now ?? Date.now
    this.retry = options.retry ?? {}
  }

  async load<T>(keys: readonly string[]): Promise<Map<string, Versioned<T>>> {
    const out = new Map<string, Versioned<T>>(keys.map((key) => [key, { value: undefined, version: 0 }]))
    // BatchGetItem refuses a request that names one key twice.
    const batches = chunk([...out.keys()], MAX_KEYS_PER_BATCH_GET)
    await forEachBounded(batches, this.maxParallel, async (batch) => {
      for (const item of await this.batchGet(batch)) {
        out.set(item.pk, { value: item.value as T, version: Number(item.version) })
      }
    })
    return out
  }

  async save<T>(entries: readonly { key: string; value: T; expectedVersion: number }[]): Promise<string[]> {
    const conflicts = new Set<string>()
    const expiresAt = Math.floor(this.now() / 1000) + this.ttlSeconds
    await forEachBounded(entries, this.maxParallel, async ({ key, value, expectedVersion }) => {
      const fresh = expectedVersion === 0
      const command = new PutCommand({
        TableName: this.options.table,
        Item: { pk: key, value: _plain(value), version: expectedVersion + 1, expiresAt },
        ...(fresh
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#v = :expected',
              ExpressionAttributeNames: { '#v': 'version' },
              ExpressionAttributeValues: { ':expected': expectedVersion },
            }),
      })
      try {
        await withRetry(`PutItem ${key}`, () => this.doc.send(command), this.retry)
      } catch (error) {
        if (errorName(error) !== 'ConditionalCheckFailedException') throw error
        conflicts.add(key)
      }
    })
    return entries.filter((e) => conflicts.has(e.key)).map((e) => e.key)
  }

  /**
   * Keys with the prefix, a Scan page at a time (a Scan reads up to 1 MB per page and filters after
   * reading): the heartbeat sweep's walk over devices, once a minute, not a per-message path.
   */
  async *keys(prefix: string): AsyncIterable<string[]> {
    let start: Record<string, unknown> | undefined
    do {
      const command = new ScanCommand({
        TableName: this.options.table,
        ProjectionExpression: 'pk',
        FilterExpression: 'begins_with(pk, :prefix)',
        ExpressionAttributeValues: { ':prefix': prefix },
        ExclusiveStartKey: start,
      })
      const page = await withRetry(`Scan ${this.options.table}`, () => this.doc.send(command), this.retry)
      const keys = (page.Items ?? []).map((item) => String(item.pk))
      if (keys.length > 0) yield keys
      start = page.LastEvaluatedKey
    } while (start)
  }

  /** One BatchGetItem of ≤ 100 keys; unprocessed keys are asked for again, with backoff, until none are left. */
  private async batchGet(keys: readonly string[]): Promise<Item[]> {
    const table = this.options.table
    const found: Item[] = []
    let pending: Record<string, unknown>[] = keys.map((pk) => ({ pk }))
    await withRetry(
      `BatchGetItem on ${table}`,
      async () => {
        const response = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
        )
        found.push(...((response.Responses?.[table] ?? []) as Item[]))
        pending = response.UnprocessedKeys?.[table]?.Keys ?? []
        if (pending.length > 0)
          throw new TransientError(`BatchGetItem on ${table} left ${pending.length} key(s) unprocessed`)
      },
      this.retry,
    )
    return found
  }
}

/**
 * The value as JSON holds it, as PostgreSQL's jsonb keeps it: the document client refuses
 * `undefined` (which state has, e.g. `open` after an alert clears) unless it was built with
 * `removeUndefinedValues`, and the caller builds the client.
 */
function _plain(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value))
}
