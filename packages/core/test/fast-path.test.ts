import { describe, expect, it } from 'vitest'
import { fastReading } from '../src/_fast-path.ts'
import { TelemetrySchema } from '../src/index.ts'
import { reading } from './_fixtures.ts'

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

  it('accepts the common valid reading without the schema', () => {
    expect(fastReading(reading() as Record<string, unknown>)).toMatchObject({
      deviceId: 'esp32-0001',
      seq: 42,
    })
  })
})
