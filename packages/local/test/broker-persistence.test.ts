/**
 * The embedded broker's persistence against aedes-persistence's own specification (its abstract
 * tests, which every aedes persistence must pass), run under vitest.
 */
import assert from 'node:assert'
import { createRequire } from 'node:module'
import { expect, test } from 'vitest'
import { FleetPersistence } from '../src/broker-persistence.ts'

type Spec = (options: {
  test: (name: string, fn: (t: NodeTestLike) => Promise<void>) => void
  persistence: () => FleetPersistence
  testAsync: boolean
}) => void

interface NodeTestLike {
  plan(count: number): void
  diagnostic(message: string): void
  assert: typeof assert
}

const abstractPersistence = createRequire(import.meta.url)('aedes-persistence/abstract.js') as Spec

abstractPersistence({
  testAsync: true,
  persistence: () => new FleetPersistence(),
  test: (name, fn) =>
    test(name, async () => {
      let planned: number | undefined
      let asserted = 0
      // node:test's `t.assert`, counting calls so `t.plan(n)` is checked as node:test would.
      const counted = new Proxy(assert, {
        get(target, key) {
          const value = Reflect.get(target, key)
          if (typeof value !== 'function') return value
          return (...args: unknown[]) => {
            asserted++
            return (value as (...a: unknown[]) => unknown)(...args)
          }
        },
      })
      await fn({ plan: (count) => (planned = count), diagnostic: () => {}, assert: counted })
      if (planned !== undefined) expect(asserted).toBe(planned)
    }),
})
