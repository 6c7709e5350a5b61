import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fastReading, sentMetrics } from '../src/_fast-path.ts'
import { decode, metricsJson, type Reading, TelemetrySchema } from '../src/index.ts'
import { message, NOW, reading } from './_fixtures.ts'

/** Values that probe each check's edges: types, signs, fractions, bounds, unsafe integers. */
const probes: unknown[] = [
  undefined,
  null,
  true,
  0,
  -1,
  1,
  2,
  1.5,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  '1',
  'a',
  'esp32-0001',
  'bad id',
  'nul\u0000',
  'x'.repeat(33),
  'x'.repeat(64),
  'x'.repeat(65),
  [],
  {},
  { temperature: 1 },
  { Temperature: 1 },
  { temperature: '1' },
  { t: Number.NaN },
  Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`m${i}`, i])),
  Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, i])),
]

const fields = ['v', 'deviceId', 'ts', 'seq', 'boot', 'metrics', 'fw'] as const

describe('fast path: never more lenient than the schema, and the same result when it accepts', () => {
  it.each(fields)('agrees with TelemetrySchema on every probe of %s', (field) => {
    for (const value of probes) {
      const body: Record<string, unknown> = { ...reading({ boot: 'b1' }), [field]: value }
      if (value === undefined) delete body[field]
      const fast = fastReading(body)
      const schema = TelemetrySchema.safeParse(body)
      if (fast) {
        expect(schema.success, `${field}=${JSON.stringify(value)}`).toBe(true)
        const { deviceId, ts, seq, boot = '', metrics, fw } = schema.data as NonNullable<typeof schema.data>
        expect(fast).toEqual({ deviceId, ts, seq, boot, metrics, fw })
      }
    }
  })

  it("checks a boot id against the pattern on a device's first reading, and on each new boot", () => {
    // Devices never seen before, so no boot id of theirs is remembered yet.
    for (const [i, boot] of ['', 'bad boot', 'x'.repeat(65)].entries()) {
      const body = { ...reading(), deviceId: `first-boot-${i}`, boot }
      expect(fastReading(body), JSON.stringify(boot)).toBeUndefined()
      expect(TelemetrySchema.safeParse(body).success).toBe(false)
    }
    const device = { ...reading(), deviceId: 'rebooting' }
    expect(fastReading({ ...device, boot: 'b1' })?.boot).toBe('b1')
    expect(fastReading({ ...device, boot: 'b1' })?.boot).toBe('b1')
    expect(fastReading({ ...device, boot: 'b 2' })).toBeUndefined()
    expect(fastReading({ ...device, boot: 'b2' })?.boot).toBe('b2')
  })

  it('accepts the common valid reading without the schema', () => {
    expect(fastReading(reading() as Record<string, unknown>)).toMatchObject({
      deviceId: 'esp32-0001',
      seq: 42,
    })
  })
})

describe('the metrics as sent: the text a store writes parses to the metrics the rules see', () => {
  const metrics = fc.dictionary(
    fc.constantFrom('temperature', 'vibration', 'metrics', 'a'),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    { minKeys: 1, maxKeys: 4 },
  )
  const extra = fc.tuple(
    fc.constantFrom('metrics', 'note', 'fw', 'x'),
    fc.oneof(fc.jsonValue(), metrics, fc.record({ metrics }), fc.constant('metrics')),
  )
  /** A reading's payload written by hand: any field order, extra and repeated fields, spacing, escapes. */
  const payload = fc
    .record({
      metrics,
      extras: fc.array(extra, { maxLength: 3 }),
      colon: fc.constantFrom(':', ' : ', ':\n'),
      escapeKey: fc.boolean(),
    })
    .chain(({ metrics, extras, colon, escapeKey }) => {
      const fields: [string, unknown][] = [
        ['v', 1],
        ['deviceId', 'esp32-0001'],
        ['ts', NOW - 1_000],
        ['seq', 7],
        ['metrics', metrics],
        ...extras,
      ]
      return fc.shuffledSubarray(fields, { minLength: fields.length }).map((shuffled) => {
        const key = (k: string) => (escapeKey && k === 'metrics' ? '"metr\\u0069cs"' : JSON.stringify(k))
        return `{${shuffled.map(([k, v]) => `${key(k)}${colon}${JSON.stringify(v)}`).join(',')}}`
      })
    })

  it('holds for any payload the fast path accepts, or the text falls back to serializing', () => {
    fc.assert(
      fc.property(payload, (text) => {
        const body = JSON.parse(text) as Record<string, unknown>
        const fast = fastReading(body, text)
        if (!fast) return
        expect(JSON.stringify(JSON.parse(metricsJson(fast)))).toBe(JSON.stringify(body.metrics))
      }),
      { numRuns: 2_000 },
    )
  })

  it("is the payload's own text for a device's plain reading, and serialized otherwise", () => {
    // Written as a device might: the store gets these very digits, which parse to the same numbers.
    const plain = JSON.stringify(reading()).replace(
      /"metrics":\{[^}]*\}/,
      '"metrics":{"temperature":23.50,"current":1e2}',
    )
    const [sent] = decode(message(plain), { now: NOW, maxAgeMs: 3_600_000 })
    const decoded = (sent as { reading: Reading }).reading
    expect(decoded.metrics).toEqual({ temperature: 23.5, current: 100 })
    expect(metricsJson(decoded)).toBe('{"temperature":23.50,"current":1e2}')
    expect(metricsJson({ ...decoded })).toBe('{"temperature":23.5,"current":100}')

    const spaced = '{"v":1,"deviceId":"esp32-0001","ts":1,"seq":1,"metrics" : {"temperature": 2.50}}'
    expect(sentMetrics(spaced)).toBeUndefined()
    expect(sentMetrics(spaced.replace('" : {"temperature": 2.50', '":{"temperature":2.50'))).toBe(
      '{"temperature":2.50}',
    )
    expect(sentMetrics('{"note":"a\\"b","metrics":{"t":1}}')).toBeUndefined()

    // Too small for a double: kept as sent, PostgreSQL could not read it back as one.
    const tiny = plain.replace('1e2', '1e-400')
    const [zero] = decode(message(tiny), { now: NOW, maxAgeMs: 3_600_000 })
    expect(metricsJson((zero as { reading: Reading }).reading)).toBe('{"temperature":23.5,"current":0}')
    expect(sentMetrics('{"metrics":{"t":1},"metrics":{"t":2}}')).toBeUndefined()
    expect(sentMetrics('{"x":{"metrics":{"t":9}},"metrics":{"t":1}}')).toBeUndefined()
  })
})
