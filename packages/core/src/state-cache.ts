/**
 * A read cache in front of a versioned StateStore, for a process that does nearly all of a store's
 * writing (`fleetpipe dev` over its embedded database). After the first load of a key, loads come
 * from memory; saves still go to the store, which still checks every version. So a value changed
 * elsewhere in the meantime costs one retry, never a lost update: its save conflicts, the key is
 * dropped here, and the caller's retry loads it from the store.
 */
import type { StateStore, Versioned } from './ports.ts'

interface Entry {
  /** Serialized, so every load hands out a copy of its own, as the store would. */
  json: string
  version: number
}

export class CachedStateStore implements StateStore {
  private readonly entries = new Map<string, Entry>()
  /** Listing goes to the store; the cache has no say in which keys exist. */
  readonly keys: StateStore['keys']

  /** `capacity`: keys kept, least recently used dropped first. */
  constructor(
    private readonly store: StateStore,
    private readonly capacity = 50_000,
  ) {
    this.keys = store.keys?.bind(store)
  }

  async load<T>(keys: readonly string[]): Promise<Map<string, Versioned<T>>> {
    const out = new Map<string, Versioned<T>>()
    const missing: string[] = []
    for (const key of keys) {
      const entry = this.entries.get(key)
      if (entry) {
        this.touch(key, entry)
        out.set(key, { value: JSON.parse(entry.json) as T, version: entry.version })
      } else {
        // Holds the key's place so the result keeps the order asked for.
        out.set(key, { value: undefined, version: 0 })
        missing.push(key)
      }
    }
    if (missing.length === 0) return out
    const loaded = await this.store.load<T>(missing)
    for (const [key, found] of loaded) {
      out.set(key, found)
      if (found.version > 0) this.remember(key, JSON.stringify(found.value), found.version)
    }
    return out
  }

  async save<T>(entries: readonly { key: string; value: T; expectedVersion: number }[]): Promise<string[]> {
    const conflicts = await this.store.save(entries)
    const refused = new Set(conflicts)
    for (const { key, value, expectedVersion } of entries) {
      if (refused.has(key)) this.entries.delete(key)
      else this.remember(key, JSON.stringify(value), expectedVersion + 1)
    }
    return conflicts
  }

  /** A load that raced a save must not put back the older version. */
  private remember(key: string, json: string, version: number) {
    const known = this.entries.get(key)
    if (known && known.version > version) return
    this.touch(key, { json, version })
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string
      this.entries.delete(oldest)
    }
  }

  private touch(key: string, entry: Entry) {
    this.entries.delete(key)
    this.entries.set(key, entry)
  }
}
