import { describe, expect, it } from 'vitest'
import { MemoryStateStore } from '../src/memory.ts'
import type { StateStore, Versioned } from '../src/ports.ts'
import { CachedStateStore } from '../src/state-cache.ts'

/** The memory store, counting the keys each load asks it for. */
function countingStore() {
  const store = new MemoryStateStore()
  const asked: string[][] = []
  const counted: StateStore = {
    load: <T>(keys: readonly string[]) => {
      asked.push([...keys])
      return store.load<T>(keys)
    },
    save: (entries) => store.save(entries),
    keys: (prefix) => store.keys(prefix),
  }
  return { store, counted, asked }
}

describe('CachedStateStore', () => {
  it('loads a saved key from memory, as a copy of its own each time', async () => {
    const { counted, asked } = countingStore()
    const cache = new CachedStateStore(counted)
    expect(await cache.save([{ key: 'a', value: { n: 1 }, expectedVersion: 0 }])).toEqual([])

    const first = await cache.load<{ n: number }>(['a'])
    ;(first.get('a')?.value as { n: number }).n = 99
    const second = await cache.load<{ n: number }>(['a'])

    expect(second.get('a')).toEqual({ value: { n: 1 }, version: 1 })
    expect(asked).toEqual([])
  })

  it('asks the store only for the keys it has not seen, and keeps the order asked for', async () => {
    const { store, counted, asked } = countingStore()
    await store.save([{ key: 'b', value: 'from the store', expectedVersion: 0 }])
    const cache = new CachedStateStore(counted)
    await cache.save([{ key: 'a', value: 'cached', expectedVersion: 0 }])

    const loaded = await cache.load<string>(['b', 'a', 'c'])

    expect([...loaded]).toEqual([
      ['b', { value: 'from the store', version: 1 }],
      ['a', { value: 'cached', version: 1 }],
      ['c', { value: undefined, version: 0 }],
    ])
    expect(asked).toEqual([['b', 'c']])
  })

  it('turns a change made elsewhere into one conflict, then reads the new value from the store', async () => {
    const { store, counted } = countingStore()
    const cache = new CachedStateStore(counted)
    await cache.save([{ key: 'a', value: 'mine', expectedVersion: 0 }])
    // Another writer (a `quarantine replay` through the served database) moves the key on.
    await store.save([{ key: 'a', value: 'theirs', expectedVersion: 1 }])

    const stale = await cache.load<string>(['a'])
    expect(stale.get('a')).toEqual({ value: 'mine', version: 1 })
    expect(await cache.save([{ key: 'a', value: 'mine again', expectedVersion: 1 }])).toEqual(['a'])

    const fresh = await cache.load<string>(['a'])
    expect(fresh.get('a')).toEqual({ value: 'theirs', version: 2 })
    expect(await cache.save([{ key: 'a', value: 'merged', expectedVersion: 2 }])).toEqual([])
    expect((await store.load<string>(['a'])).get('a')).toEqual({ value: 'merged', version: 3 })
  })

  it('does not let a load that raced a save put back the older version', async () => {
    const { store } = countingStore()
    await store.save([{ key: 'a', value: 'v1', expectedVersion: 0 }])
    let release: () => void = () => {}
    const slow: StateStore = {
      load: async <T>(keys: readonly string[]) => {
        const answer = await store.load<T>(keys)
        await new Promise<void>((resolve) => (release = resolve))
        return answer as Map<string, Versioned<T>>
      },
      save: (entries) => store.save(entries),
    }
    const cache = new CachedStateStore(slow)

    const racing = cache.load<string>(['a'])
    await new Promise((resolve) => setTimeout(resolve, 0))
    await cache.save([{ key: 'a', value: 'v2', expectedVersion: 1 }])
    release()
    expect((await racing).get('a')).toEqual({ value: 'v1', version: 1 })

    expect((await cache.load<string>(['a'])).get('a')).toEqual({ value: 'v2', version: 2 })
  })

  it('keeps at most `capacity` keys, dropping the least recently used', async () => {
    const { counted, asked } = countingStore()
    const cache = new CachedStateStore(counted, 2)
    await cache.save([
      { key: 'a', value: 1, expectedVersion: 0 },
      { key: 'b', value: 2, expectedVersion: 0 },
    ])
    await cache.load(['a'])
    await cache.save([{ key: 'c', value: 3, expectedVersion: 0 }])

    await cache.load(['a', 'b', 'c'])

    expect(asked).toEqual([['b']])
  })

  it('lists keys through the store, and has no listing when the store has none', async () => {
    const { counted } = countingStore()
    const cache = new CachedStateStore(counted)
    await cache.save([{ key: 'device:x', value: 1, expectedVersion: 0 }])
    const pages: string[][] = []
    for await (const page of cache.keys?.('device:') ?? []) pages.push(page)
    expect(pages).toEqual([['device:x']])

    const unlisted = new CachedStateStore({ load: counted.load, save: counted.save })
    expect(unlisted.keys).toBeUndefined()
  })
})
