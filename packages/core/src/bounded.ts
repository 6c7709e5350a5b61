/** Bounded concurrency and grouping, for adapters that fan calls out to a cloud API. */

/**
 * Runs `fn` over `items` with at most `limit` calls in flight. After a failure no new item is
 * started; the calls under way are awaited (none outlives this function) and the first error is thrown.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0
  let failure: { error: unknown } | undefined
  const worker = async () => {
    while (!failure && next < items.length) {
      const index = next++
      try {
        await fn(items[index] as T, index)
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  const workers = Math.min(Math.max(1, Math.floor(limit)), items.length)
  await Promise.all(Array.from({ length: workers }, worker))
  if (failure) throw failure.error
}

/** Items in groups by key, each group in input order, groups in order of first appearance. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const group = groups.get(k)
    if (group) group.push(item)
    else groups.set(k, [item])
  }
  return [...groups.values()]
}

/**
 * Runs `fn` over `items` one at a time within each key, in input order, and keys in parallel up to
 * `limit`: one device's commands, or one alert's transitions, arrive in the order they were made.
 */
export function forEachInOrderBy<T>(
  items: readonly T[],
  key: (item: T) => string,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  return forEachBounded(groupBy(items, key), limit, async (group) => {
    for (const item of group) await fn(item)
  })
}

/** `items` in runs of at most `size`, in order. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
