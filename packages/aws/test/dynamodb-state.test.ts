import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb'
import { deviceStateKey, ingest, TransientError } from '@fleetpipe/core'
import { ManualClock, memoryDeps } from '@fleetpipe/core/memory'
import { mockClient } from 'aws-sdk-client-mock'
import { describe, expect, it } from 'vitest'
import { message, overTemperature as overTemperatureRules, racingLoads } from '../../core/test/_fixtures.ts'
import { DynamoDbStateStore } from '../src/index.ts'
import { NOW, noWait } from './_fixtures.ts'

const table = 'fleetpipe-state'

function setup(options: { ttlSeconds?: number; attempts?: number } = {}) {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }))
  const mock = mockClient(doc)
  const store = new DynamoDbStateStore(doc, {
    table,
    ttlSeconds: options.ttlSeconds,
    now: () => NOW,
    retry: { ...noWait, attempts: options.attempts ?? 4 },
  })
  return { mock, store }
}

const keysOf = (input: BatchGetCommandInput) =>
  (input.RequestItems?.[table]?.Keys ?? []).map((k) => k.pk as string)

describe('DynamoDbStateStore.load', () => {
  it('reads more than 100 keys in BatchGet calls of at most 100, asking again for unprocessed keys', async () => {
    const { mock, store } = setup()
    const keys = Array.from({ length: 250 }, (_, i) => deviceStateKey(`esp32-${String(i).padStart(4, '0')}`))
    let first = true
    mock.on(BatchGetCommand).callsFake(async (input: BatchGetCommandInput) => {
      const asked = keysOf(input)
      // Keys of even devices exist; the first call leaves its last 10 keys unprocessed.
      const unprocessed = first ? asked.slice(-10) : []
      first = false
      const items = asked
        .filter((pk) => !unprocessed.includes(pk) && Number(pk.slice(-4)) % 2 === 0)
        .map((pk) => ({ pk, value: { rules: {}, of: pk }, version: 3, expiresAt: 1 }))
      return {
        Responses: { [table]: items },
        UnprocessedKeys: unprocessed.length ? { [table]: { Keys: unprocessed.map((pk) => ({ pk })) } } : {},
      }
    })

    const loaded = await store.load<{ of: string }>(keys)

    const inputs = mock.commandCalls(BatchGetCommand).map((c) => c.args[0].input)
    expect(inputs.map((i) => keysOf(i).length)).toEqual([100, 100, 50, 10])
    for (const input of inputs) expect(input.RequestItems?.[table]?.ConsistentRead).toBe(true)
    // Every key asked for once, and the unprocessed ones once more.
    expect(inputs.slice(0, 3).flatMap(keysOf).sort()).toEqual([...keys].sort())
    expect(keysOf(inputs[3] as BatchGetCommandInput)).toEqual(
      keysOf(inputs[0] as BatchGetCommandInput).slice(-10),
    )
    expect(loaded.size).toBe(250)
    keys.forEach((key, i) => {
      expect(loaded.get(key)).toEqual(
        i % 2 === 0 ? { value: { rules: {}, of: key }, version: 3 } : { value: undefined, version: 0 },
      )
    })
  })

  it('asks for a key named twice once, and makes no call for no keys', async () => {
    const { mock, store } = setup()
    mock.on(BatchGetCommand).resolves({ Responses: { [table]: [] } })

    expect((await store.load([])).size).toBe(0)
    expect(mock.commandCalls(BatchGetCommand)).toHaveLength(0)

    const loaded = await store.load(['device/a', 'device/a'])
    expect([...loaded]).toEqual([['device/a', { value: undefined, version: 0 }]])
    expect(keysOf(mock.commandCalls(BatchGetCommand)[0]?.args[0].input as BatchGetCommandInput)).toEqual([
      'device/a',
    ])
  })

  it('throws a TransientError when keys stay unprocessed after the attempts', async () => {
    const { mock, store } = setup({ attempts: 3 })
    mock.on(BatchGetCommand).callsFake(async (input: BatchGetCommandInput) => ({
      Responses: { [table]: [] },
      UnprocessedKeys: { [table]: { Keys: input.RequestItems?.[table]?.Keys } },
    }))

    await expect(store.load(['device/a'])).rejects.toBeInstanceOf(TransientError)
    expect(mock.commandCalls(BatchGetCommand)).toHaveLength(3)
  })
})

describe('DynamoDbStateStore.save', () => {
  it('puts a new key only if absent and a known key only at its expected version; conflicts are returned', async () => {
    const { mock, store } = setup({ ttlSeconds: 3_600 })
    mock.on(PutCommand).callsFake(async (input) => {
      if (input.Item.pk === 'device/stale') {
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
        })
      }
      return {}
    })
    const value = { rules: { 'over-temperature': { watermark: NOW, outbox: [] } } }

    const conflicts = await store.save([
      { key: 'device/new', value, expectedVersion: 0 },
      { key: 'device/known', value, expectedVersion: 7 },
      { key: 'device/stale', value, expectedVersion: 2 },
    ])

    expect(conflicts).toEqual(['device/stale'])
    const puts = mock.commandCalls(PutCommand).map((c) => c.args[0].input)
    const byKey = new Map(puts.map((p) => [p.Item?.pk, p]))
    const expiresAt = Math.floor(NOW / 1000) + 3_600
    expect(byKey.get('device/new')).toEqual({
      TableName: table,
      Item: { pk: 'device/new', value, version: 1, expiresAt },
      ConditionExpression: 'attribute_not_exists(pk)',
    })
    expect(byKey.get('device/known')).toEqual({
      TableName: table,
      Item: { pk: 'device/known', value, version: 8, expiresAt },
      ConditionExpression: '#v = :expected',
      ExpressionAttributeNames: { '#v': 'version' },
      ExpressionAttributeValues: { ':expected': 7 },
    })
    expect(byKey.get('device/stale')?.ConditionExpression).toBe('#v = :expected')
    expect(puts).toHaveLength(3)
  })

  it('expires items 30 days after their last save unless told otherwise', async () => {
    const { mock, store } = setup()
    mock.on(PutCommand).resolves({})

    await store.save([{ key: 'device/a', value: { rules: {} }, expectedVersion: 0 }])

    const item = mock.commandCalls(PutCommand)[0]?.args[0].input.Item
    expect(item?.expiresAt).toBe(Math.floor(NOW / 1000) + 30 * 24 * 60 * 60)
  })

  it('saves the value as JSON holds it: no undefined for the document client to refuse', async () => {
    const { mock, store } = setup()
    mock.on(PutCommand).resolves({})
    const value = { rules: { r: { watermark: 5, open: undefined, outbox: [] } } }

    await store.save([{ key: 'device/a', value, expectedVersion: 1 }])

    expect(mock.commandCalls(PutCommand)[0]?.args[0].input.Item?.value).toStrictEqual({
      rules: { r: { watermark: 5, outbox: [] } },
    })
  })

  it('retries a throttled put and throws other errors as they are', async () => {
    const { mock, store } = setup()
    const throttled = Object.assign(new Error('Throughput exceeds the current capacity'), {
      name: 'ProvisionedThroughputExceededException',
    })
    // DynamoDB's ValidationException has no class of its own in the SDK.
    const tooLarge = Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    })
    mock
      .on(PutCommand, { Item: { pk: 'device/a' } })
      .rejectsOnce(throttled)
      .resolves({})
      .on(PutCommand, { Item: { pk: 'device/b' } })
      .rejects(tooLarge)

    expect(await store.save([{ key: 'device/a', value: {}, expectedVersion: 0 }])).toEqual([])
    expect(mock.commandCalls(PutCommand)).toHaveLength(2)
    await expect(store.save([{ key: 'device/b', value: {}, expectedVersion: 0 }])).rejects.toBe(tooLarge)
    expect(mock.commandCalls(PutCommand)).toHaveLength(3)
  })
})

describe('DynamoDbStateStore.keys', () => {
  it('scans for the prefix a page at a time, projecting only the key', async () => {
    const { mock, store } = setup()
    mock
      .on(ScanCommand)
      .resolvesOnce({ Items: [{ pk: 'device/a' }, { pk: 'device/b' }], LastEvaluatedKey: { pk: 'device/b' } })
      .resolvesOnce({ Items: [], LastEvaluatedKey: { pk: 'seen/z' } })
      .resolvesOnce({ Items: [{ pk: 'device/c' }] })

    const pages: string[][] = []
    for await (const page of store.keys('device/')) pages.push(page)

    expect(pages).toEqual([['device/a', 'device/b'], ['device/c']])
    const inputs = mock.commandCalls(ScanCommand).map((c) => c.args[0].input)
    expect(inputs[0]).toEqual({
      TableName: table,
      ProjectionExpression: 'pk',
      FilterExpression: 'begins_with(pk, :prefix)',
      ExpressionAttributeValues: { ':prefix': 'device/' },
      ExclusiveStartKey: undefined,
    })
    expect(inputs.map((i) => i.ExclusiveStartKey)).toEqual([undefined, { pk: 'device/b' }, { pk: 'seen/z' }])
  })
})

describe('two invocations racing on one device, against DynamoDB conditional writes', () => {
  /** A table that keeps items and enforces the two conditions the store writes, as DynamoDB does. */
  function conditionalTable(mock: ReturnType<typeof setup>['mock']) {
    const items = new Map<string, { pk: string; value: unknown; version: number }>()
    mock.on(BatchGetCommand).callsFake(async (input: BatchGetCommandInput) => ({
      Responses: {
        [table]: keysOf(input).flatMap((pk) => {
          const item = items.get(pk)
          return item ? [structuredClone(item)] : []
        }),
      },
    }))
    mock.on(PutCommand).callsFake(async (input) => {
      const item = input.Item as { pk: string; value: unknown; version: number }
      const current = items.get(item.pk)
      const ok =
        input.ConditionExpression === 'attribute_not_exists(pk)'
          ? current === undefined
          : input.ConditionExpression === '#v = :expected' &&
            current?.version === input.ExpressionAttributeValues?.[':expected']
      if (!ok)
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
        })
      items.set(item.pk, structuredClone(item))
      return {}
    })
  }

  it('opens the alert once and delivers it once', async () => {
    const { mock, store } = setup()
    conditionalTable(mock)
    // Both load before either saves, as two Lambdas on one device might.
    const racing = racingLoads(store)
    const reading = (seq: number, temperature: number) =>
      message({ v: 1, deviceId: 'esp32-0001', ts: NOW - 60_000 + seq * 1_000, seq, metrics: { temperature } })
    const a = { ...memoryDeps(new ManualClock(NOW)), state: racing }
    const b = { ...memoryDeps(new ManualClock(NOW)), state: racing }
    await Promise.all([
      ingest([reading(1, 85)], a, { rules: overTemperatureRules }),
      ingest([reading(2, 86)], b, { rules: overTemperatureRules }),
    ])
    const opened = [...a.alerts.transitions, ...b.alerts.transitions].filter((t) => t.type === 'opened')
    expect(opened).toHaveLength(1)
    expect(
      mock.commandCalls(PutCommand).some((c) => c.args[0].input.ConditionExpression === '#v = :expected'),
    ).toBe(true)
  })
})
