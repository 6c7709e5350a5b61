import {
  type Alert,
  type AlertTransition,
  DEFAULT_MAX_AGE_MS,
  type DeviceState,
  decode,
  deviceStateKey,
  type InboundMessage,
  ingest,
  MAX_PAYLOAD_BYTES,
  MAX_RAW_BYTES,
  type QuarantineEntry,
  type Reading,
  rawBytes,
  type StatusUpdate,
  type TransitionType,
  topics,
  type WriteOutcome,
} from '@fleetpipe/core'
import { ManualClock, MemoryCommandPublisher } from '@fleetpipe/core/memory'
import { type Database, migrate, migrations } from '@fleetpipe/postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SLOTS } from '../../packages/core/src/slots.ts'
import { message, NOW, overTemperature, reading as wire } from '../../packages/core/test/_fixtures.ts'
import { type TestDatabase, testDatabase } from '../support/targets.ts'

const SECOND = 1_000
const MINUTE = 60 * SECOND

// Opening PGlite costs seconds, so the suite shares one database; each test keeps to its own devices and keys.
describe('the PostgreSQL store', () => {
  let target: TestDatabase
  let db: Database

  beforeAll(async () => {
    target = await testDatabase()
    db = target.db
  })

  afterAll(() => target?.close())

  async function count(table: string, where = 'true', params: unknown[] = []): Promise<number> {
    const [row] = await db.sql.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM ${table} WHERE ${where}`,
      params,
    )
    return Number(row?.n)
  }

  const telemetryRows = (deviceId: string) => count('telemetry', 'device_id = $1', [deviceId])

  function reading(deviceId: string, seq: number, overrides: Partial<Reading> = {}): Reading {
    return {
      deviceId,
      boot: '',
      seq,
      ts: NOW - 10 * MINUTE + seq * SECOND,
      metrics: { temperature: 20 },
      ...overrides,
    }
  }

  const statuses = (outcomes: WriteOutcome[]) => outcomes.map((o) => o.status)
  const write = async (readings: Reading[]) => statuses(await db.telemetry.write(readings))

  describe('migrations', () => {
    it('apply nothing a second time and leave every table in place', async () => {
      expect(await migrate(db.sql)).toEqual({ applied: [] })
      const tables = await db.sql.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
         ORDER BY table_name`,
      )
      expect(tables.map((t) => t.table_name)).toEqual([
        'alert_events',
        'alerts',
        'devices',
        'quarantine',
        'schema_migrations',
        'state',
        'telemetry',
      ])
      const versions = await db.sql.query<{ version: number }>('SELECT version FROM schema_migrations')
      expect(versions.map((v) => v.version)).toEqual(migrations.map((m) => m.version))
    })
  })

  describe('PostgresTelemetryStore.write', () => {
    it('appends what it is given and reports each reading stored, in order', async () => {
      const batch = [1, 2, 3].map((seq) => reading('w-order', seq))
      expect(await write(batch)).toEqual(['stored', 'stored', 'stored'])
      expect(await telemetryRows('w-order')).toBe(3)
    })

    it('tells which readings it already has, by device, boot, seq and ts', async () => {
      const base = reading('w-has', 7, { boot: 'a' })
      await write([base])
      const asked = [
        base,
        { ...base, boot: 'b' },
        { ...base, boot: '' },
        { ...base, ts: base.ts + 1 },
        { ...base, seq: 8 },
      ]
      expect(await db.telemetry.has(asked)).toEqual([true, false, false, false, false])
      expect(await db.telemetry.has([])).toEqual([])
    })

    it('writes and looks up more readings than one chunk holds', async () => {
      const many = (from: number, n: number) =>
        Array.from({ length: n }, (_, i) => reading('w-bulk', from + i, { ts: NOW - 60 * MINUTE + from + i }))
      const first = many(0, 2_500)
      expect(await write(first)).toEqual(Array(2_500).fill('stored'))
      expect(await telemetryRows('w-bulk')).toBe(2_500)
      const straddling = [...first.slice(990, 1_010), ...many(2_500, 1_000)]
      expect(await db.telemetry.has(straddling)).toEqual([
        ...Array(20).fill(true),
        ...Array(1_000).fill(false),
      ])
    })

    it('round-trips metrics exactly', async () => {
      const metrics = {
        temperature: 23.5,
        vibration: 0.12,
        offset: -40.25,
        leak: 1e-9,
        drift: -2.5e-12,
        sum: 0.1 + 0.2,
        huge: Number.MAX_VALUE,
        counter: Number.MAX_SAFE_INTEGER,
        zero: 0,
      }
      const newest = reading('w-metrics', 2, { boot: 'b1', metrics, fw: '1.4.2' })
      await write([reading('w-metrics', 1, { boot: 'b1' }), newest])
      expect(await db.queries.latest('w-metrics')).toEqual([
        { deviceId: 'w-metrics', ts: newest.ts, seq: 2, boot: 'b1', metrics },
      ])
    })
    it('stores metrics in the digits the device sent, and reads back the numbers the rules saw', async () => {
      // Decoding keeps a plain payload's metrics text, and the store writes that text, not a re-serialization.
      const sent = '{"temperature":23.50,"count":1e2,"fine":1.00000000000000000001,"offset":-4.25E-3}'
      const payload = JSON.stringify(wire({ deviceId: 'w-sent', seq: 5, ts: NOW - MINUTE })).replace(
        /"metrics":\{[^}]*\}/,
        `"metrics":${sent}`,
      )
      const inbound = message(payload, { topic: topics.telemetry('w-sent'), payload: Buffer.from(payload) })
      const [record] = decode(inbound, { now: NOW, maxAgeMs: DEFAULT_MAX_AGE_MS })
      const decoded = (record as { kind: 'reading'; reading: Reading }).reading
      expect(decoded.metrics).toEqual({ temperature: 23.5, count: 100, fine: 1, offset: -0.00425 })

      expect(await write([decoded])).toEqual(['stored'])
      const [row] = await db.sql.query<{ metrics: string }>(
        `SELECT metrics::text AS metrics FROM telemetry WHERE device_id = 'w-sent'`,
      )
      expect(row?.metrics).toContain('"temperature": 23.50')
      expect(await db.queries.latest('w-sent')).toEqual([
        expect.objectContaining({ deviceId: 'w-sent', seq: 5, metrics: decoded.metrics }),
      ])
      const range = { deviceId: 'w-sent', metric: 'fine', from: NOW - 2 * MINUTE, to: NOW }
      expect(await db.queries.series(range)).toEqual([{ ts: NOW - MINUTE, value: 1 }])
    })

    it('keeps every character firmware versions and ids may carry, and a missing firmware as null', async () => {
      // Printable ASCII includes the backslash, which COPY's text format (the PGlite path) must escape.
      const odd = [
        reading('w-chars:1.a_b', 1, { boot: 'x-1.2:3', fw: 'v1.2\\beta "rc" \\N' }),
        reading('w-chars:1.a_b', 2, { boot: 'x-1.2:3' }),
      ]
      await write(odd)
      const rows = await db.sql.query<{ seq: string | number; boot: string; fw: string | null; ts: number }>(
        `SELECT seq, boot, fw, (extract(epoch FROM ts) * 1000)::float8 AS ts
         FROM telemetry WHERE device_id = $1 ORDER BY seq`,
        ['w-chars:1.a_b'],
      )
      expect(rows.map((r) => ({ ...r, seq: Number(r.seq) }))).toEqual([
        { seq: 1, boot: 'x-1.2:3', fw: 'v1.2\\beta "rc" \\N', ts: odd[0]?.ts },
        { seq: 2, boot: 'x-1.2:3', fw: null, ts: odd[1]?.ts },
      ])
    })
  })

  describe('PostgresTelemetryStore.writeStatus', () => {
    const status = (
      deviceId: string,
      state: 'online' | 'offline',
      ts: number | undefined,
      extra: Partial<StatusUpdate> = {},
    ): StatusUpdate => ({ v: 1, deviceId, state, ts, receivedAt: NOW, ...extra })

    async function device(deviceId: string) {
      const [row] = await db.sql.query(
        `SELECT state, boot, fw, (extract(epoch FROM changed_at) * 1000)::float8 AS changed_at
         FROM devices WHERE device_id = $1`,
        [deviceId],
      )
      return row
    }

    it('keeps the newest status per device even when an older one arrives later', async () => {
      await write([reading('s-order', 1)])
      await db.telemetry.writeStatus([
        status('s-order', 'online', NOW - 5 * SECOND, { boot: 'b2', fw: '1.1' }),
      ])
      await db.telemetry.writeStatus([status('s-order', 'offline', NOW - 9 * SECOND)])
      expect((await db.queries.latest('s-order'))[0]?.status).toBe('online')

      await db.telemetry.writeStatus([status('s-order', 'offline', NOW - SECOND)])
      expect((await db.queries.latest('s-order'))[0]?.status).toBe('offline')
      expect(await device('s-order')).toEqual({
        state: 'offline',
        boot: 'b2',
        fw: '1.1',
        changed_at: NOW - SECOND,
      })
    })

    it('takes the newest of one call, and the receive time when a status has no device time', async () => {
      await write([reading('s-batch', 1)])
      await db.telemetry.writeStatus([
        status('s-batch', 'offline', NOW - SECOND),
        status('s-batch', 'online', NOW - 2 * SECOND),
        status('s-untimed', 'online', undefined, { receivedAt: NOW - 500 }),
      ])
      expect(await db.queries.latest('s-batch')).toEqual([expect.objectContaining({ status: 'offline' })])
      expect(await device('s-untimed')).toMatchObject({ state: 'online', changed_at: NOW - 500 })
    })
  })

  describe('PostgresStateStore', () => {
    const value = (n: number) => ({
      watermark: NOW + n,
      open: { id: `a:${n}`, severity: 'critical', tags: ['x', 'ü'], nested: { ok: true, none: null } },
      outbox: [],
    })

    it('loads unknown keys as version 0 with no value', async () => {
      const loaded = await db.state.load(['st/unknown-1', 'st/unknown-2'])
      expect([...loaded]).toEqual([
        ['st/unknown-1', { value: undefined, version: 0 }],
        ['st/unknown-2', { value: undefined, version: 0 }],
      ])
    })

    it('saves a new key at version 1 and round-trips its value', async () => {
      expect(await db.state.save([{ key: 'st/new', value: value(1), expectedVersion: 0 }])).toEqual([])
      const loaded = await db.state.load(['st/new'])
      expect(loaded.get('st/new')).toEqual({ value: value(1), version: 1 })
    })

    it('refuses stale saves and keeps the value', async () => {
      const key = 'st/stale'
      await db.state.save([{ key, value: value(1), expectedVersion: 0 }])
      expect(await db.state.save([{ key, value: value(2), expectedVersion: 0 }])).toEqual([key])
      expect((await db.state.load([key])).get(key)).toEqual({ value: value(1), version: 1 })

      expect(await db.state.save([{ key, value: value(3), expectedVersion: 1 }])).toEqual([])
      expect(await db.state.save([{ key, value: value(4), expectedVersion: 1 }])).toEqual([key])
      expect((await db.state.load([key])).get(key)).toEqual({ value: value(3), version: 2 })
    })

    it('returns only the conflicting keys of a mixed save', async () => {
      await db.state.save([
        { key: 'st/mixed-ok', value: value(1), expectedVersion: 0 },
        { key: 'st/mixed-stale', value: value(1), expectedVersion: 0 },
      ])
      const conflicts = await db.state.save([
        { key: 'st/mixed-ok', value: value(2), expectedVersion: 1 },
        { key: 'st/mixed-stale', value: value(2), expectedVersion: 0 },
        { key: 'st/mixed-new', value: value(2), expectedVersion: 0 },
        { key: 'st/mixed-missing', value: value(2), expectedVersion: 3 },
      ])
      expect(conflicts.sort()).toEqual(['st/mixed-missing', 'st/mixed-stale'])
      const loaded = await db.state.load([
        'st/mixed-ok',
        'st/mixed-stale',
        'st/mixed-new',
        'st/mixed-missing',
      ])
      expect(Object.fromEntries([...loaded].map(([key, v]) => [key, v.version]))).toEqual({
        'st/mixed-ok': 2,
        'st/mixed-stale': 1,
        'st/mixed-new': 1,
        'st/mixed-missing': 0,
      })
      expect(loaded.get('st/mixed-stale')?.value).toEqual(value(1))
    })
  })

  describe('PostgresQuarantine', () => {
    function refused(body: unknown, overrides: Partial<InboundMessage> = {}): QuarantineEntry {
      const [record, ...rest] = decode(message(body, overrides), { now: NOW, maxAgeMs: DEFAULT_MAX_AGE_MS })
      if (record?.kind !== 'quarantined' || rest.length > 0)
        throw new Error('expected one quarantined record')
      return record.entry
    }

    const on = (deviceId: string, receivedAt: number, payload?: Uint8Array) => ({
      topic: topics.telemetry(deviceId),
      receivedAt,
      ...(payload && { payload }),
    })

    const text = (s: string) => s.replaceAll('\u0000', '\uFFFD')
    const asStored = (entries: QuarantineEntry[]) =>
      entries.map((e) => ({ ...e, path: text(e.path), message: text(e.message), id: expect.any(Number) }))
    const withoutRaw = <T extends { raw: string }>(entries: T[]) => entries.map(({ raw: _, ...rest }) => rest)

    const binary = Uint8Array.from([0xff, 0xfe, 0x00, 0x7b, 0x80, 0xc3])
    const huge = new Uint8Array(MAX_PAYLOAD_BYTES + 100).fill(0x7b)
    const badJson = refused('{"oops"', on('q-alpha', NOW - 5 * SECOND))
    const binaryJunk = refused('', on('q-beta', NOW - 4 * SECOND, binary))
    const badSchema = refused(wire({ deviceId: 'q-alpha', metrics: {} }), on('q-alpha', NOW - 3 * SECOND))
    const tooLarge = refused('', on('q-beta', NOW - 2 * SECOND, huge))
    const spoofed = refused(wire({ deviceId: 'q-mallory' }), on('q-alpha', NOW - SECOND))

    it('keeps realistic entries and lists them newest first, by device', async () => {
      expect([badJson, binaryJunk, badSchema, tooLarge, spoofed].map((e) => e.reason)).toEqual([
        'invalid_json',
        'invalid_json',
        'schema',
        'payload_too_large',
        'device_mismatch',
      ])
      expect(binaryJunk.message).toContain('\u0000')
      await db.quarantine.put([badJson, binaryJunk, badSchema])
      await db.quarantine.put([tooLarge, spoofed])

      expect(await db.quarantine.list({ deviceId: 'q-alpha' })).toEqual(
        asStored([spoofed, badSchema, badJson]),
      )
      const beta = await db.quarantine.list({ deviceId: 'q-beta' })
      expect(withoutRaw(beta)).toEqual(withoutRaw(asStored([tooLarge, binaryJunk])))
      const [large, junk] = beta
      expect(junk).toMatchObject({ rawEncoding: 'base64', rawTruncated: false })
      expect(junk && rawBytes(junk)).toEqual(Buffer.from(binary))
      expect(large).toMatchObject({ rawEncoding: 'base64', rawTruncated: true })
      expect(large && rawBytes(large)).toEqual(Buffer.from(huge.subarray(0, MAX_RAW_BYTES)))
    })

    it('filters by reason and device, and limits', async () => {
      const invalid = await db.quarantine.list({ reason: 'invalid_json' })
      expect(invalid.every((e) => e.reason === 'invalid_json')).toBe(true)
      expect(invalid.map((e) => e.deviceId)).toEqual(expect.arrayContaining(['q-alpha', 'q-beta']))
      expect(await db.quarantine.list({ reason: 'invalid_json', deviceId: 'q-beta' })).toEqual(
        asStored([binaryJunk]),
      )
      expect(await db.quarantine.list({ deviceId: 'q-alpha', limit: 2 })).toEqual(
        asStored([spoofed, badSchema]),
      )
    })

    it('hides replayed entries unless asked for all, and says how they went', async () => {
      const first = refused('not json', on('q-replay', NOW - 2 * SECOND))
      const second = refused('nor this', on('q-replay', NOW - SECOND))
      await db.quarantine.put([first, second])
      const [newer, older] = await db.quarantine.list({ deviceId: 'q-replay' })
      if (!newer || !older) throw new Error('expected two entries')

      await db.quarantine.markReplayed([{ id: older.id, outcome: 'stored' }], NOW + MINUTE)
      expect(await db.quarantine.list({ deviceId: 'q-replay' })).toEqual([newer])
      expect(await db.quarantine.list({ deviceId: 'q-replay', all: true })).toEqual([
        newer,
        { ...older, replayedAt: NOW + MINUTE, replayOutcome: 'stored' },
      ])
    })

    it('counts entries by reason', async () => {
      const before = await db.quarantine.countByReason()
      await db.quarantine.put([
        refused('{', on('q-count', NOW)),
        refused('[', on('q-count', NOW)),
        refused(wire({ deviceId: 'q-count', seq: -1 }), on('q-count', NOW)),
        refused('{}', { topic: 'fleet/q-count/commands', receivedAt: NOW }),
      ])
      const after = await db.quarantine.countByReason()
      const added = Object.fromEntries(
        Object.entries(after)
          .map(([reason, n]) => [reason, n - (before[reason] ?? 0)])
          .filter(([, n]) => n !== 0),
      )
      expect(added).toEqual({ invalid_json: 2, schema: 1, unknown_topic: 1 })
    })

    it('keeps payloads and details holding U+0000, which PostgreSQL text cannot', async () => {
      const cString = `${JSON.stringify(wire({ deviceId: 'q-nul' }))}\u0000`
      const terminated = refused(cString, on('q-nul', NOW - SECOND))
      const nulKey = refused(
        '{"v":1,"deviceId":"q-nul","ts":1,"seq":1,"metrics":{"a\\u0000":1}}',
        on('q-nul', NOW),
      )
      expect(terminated.raw).toContain('\u0000')
      expect(nulKey.path).toContain('\u0000')
      await db.quarantine.put([terminated, nulKey])

      const [key, term] = await db.quarantine.list({ deviceId: 'q-nul' })
      expect(term).toMatchObject({ reason: 'invalid_json', rawEncoding: 'base64' })
      expect(term && rawBytes(term)).toEqual(Buffer.from(cString))
      expect(key).toMatchObject({
        reason: 'schema',
        path: nulKey.path.replaceAll('\u0000', '\uFFFD'),
        raw: nulKey.raw,
        rawEncoding: 'utf8',
      })
    })
  })

  describe('PostgresAlertSink', () => {
    function alert(deviceId: string, openedAt: number, overrides: Partial<Alert> = {}): Alert {
      return {
        id: `${deviceId}:over-temperature:${openedAt}`,
        deviceId,
        ruleId: 'over-temperature',
        kind: 'threshold',
        metric: 'temperature',
        severity: 'critical',
        openedAt,
        value: 85.5,
        threshold: 80,
        message: 'temperature 85.5 is above 80',
        ...overrides,
      }
    }

    const transition = (type: TransitionType, a: Alert, at: number, value: number): AlertTransition => ({
      type,
      alert: a,
      at,
      value,
      message: `temperature ${value}`,
    })

    const events = (alertId: string) => count('alert_events', 'alert_id = $1', [alertId])

    it('opens then clears an alert, once however often the transitions arrive', async () => {
      const a = alert('a-dev-1', NOW - MINUTE)
      const opened = transition('opened', a, a.openedAt, 85.5)
      const cleared = transition('cleared', a, NOW - 30 * SECOND, 74)

      await db.alerts.publish([opened])
      const open = {
        id: a.id,
        deviceId: 'a-dev-1',
        ruleId: 'over-temperature',
        kind: 'threshold',
        metric: 'temperature',
        severity: 'critical',
        state: 'open',
        openedAt: NOW - MINUTE,
        value: 85.5,
        threshold: 80,
        message: 'temperature 85.5 is above 80',
      }
      expect(await db.queries.alerts({ deviceId: 'a-dev-1' })).toEqual([open])

      await db.alerts.publish([cleared])
      const closed = { ...open, state: 'cleared', clearedAt: NOW - 30 * SECOND }
      expect(await db.queries.alerts({ deviceId: 'a-dev-1' })).toEqual([closed])
      expect(await events(a.id)).toBe(2)

      await db.alerts.publish([opened, cleared])
      await db.alerts.publish([opened])
      expect(await db.queries.alerts({ deviceId: 'a-dev-1' })).toEqual([closed])
      expect(await events(a.id)).toBe(2)
    })

    it('applies an escalation once', async () => {
      const a = alert('a-dev-esc', NOW - MINUTE, { severity: 'warning' })
      const escalated = transition('escalated', { ...a, severity: 'critical' }, NOW - 50 * SECOND, 95)
      await db.alerts.publish([transition('opened', a, a.openedAt, 85.5), escalated])
      await db.alerts.publish([escalated])
      expect(await db.queries.alerts({ deviceId: 'a-dev-esc' })).toEqual([
        expect.objectContaining({ state: 'open', severity: 'critical' }),
      ])
      expect(await events(a.id)).toBe(2)
    })

    it('lists only open alerts when asked', async () => {
      const stillOpen = alert('a-dev-2', NOW - 2 * MINUTE)
      const over = alert('a-dev-3', NOW - 2 * MINUTE)
      await db.alerts.publish([
        transition('opened', stillOpen, stillOpen.openedAt, 85.5),
        transition('opened', over, over.openedAt, 85.5),
        transition('cleared', over, NOW - MINUTE, 70),
      ])
      const open = await db.queries.alerts({ state: 'open' })
      expect(open.every((a) => a.state === 'open' && a.clearedAt === undefined)).toBe(true)
      expect(open.map((a) => a.id)).toContain(stillOpen.id)
      expect(open.map((a) => a.id)).not.toContain(over.id)
      expect((await db.queries.alerts({ state: 'cleared' })).map((a) => a.id)).toContain(over.id)
    })
    it('acknowledges an alert once: it stays open, and a second ack keeps the first time', async () => {
      const a = alert('a-dev-ack', NOW - MINUTE)
      await db.alerts.publish([transition('opened', a, a.openedAt, 85.5)])

      expect(await db.alerts.acknowledge(a.id, NOW - 40 * SECOND)).toBe(true)
      expect(await db.alerts.acknowledge(a.id, NOW)).toBe(true)
      expect(await db.alerts.acknowledge('no-such-alert', NOW)).toBe(false)
      expect(await db.queries.alerts({ deviceId: 'a-dev-ack' })).toEqual([
        expect.objectContaining({ state: 'open', acknowledgedAt: NOW - 40 * SECOND }),
      ])
    })
  })

  describe('Queries.series', () => {
    const base = NOW - 10 * MINUTE
    const at = (offset: number, temperature: number, deviceId = 'series-1') =>
      reading(deviceId, offset, { ts: base + offset, metrics: { temperature } })

    beforeAll(async () => {
      await write([
        at(150 * SECOND, -5.5),
        at(0, 10),
        at(90 * SECOND, 50),
        at(30 * SECOND, 20),
        at(120 * SECOND, 1.5),
        at(60 * SECOND, 30),
        at(-1, 999),
        at(3 * MINUTE, 999),
        at(10 * SECOND, 999, 'series-2'),
        reading('series-1', 1, { ts: base + 45 * SECOND, metrics: { humidity: 40 } }),
      ])
    })

    const range = { deviceId: 'series-1', metric: 'temperature', from: base, to: base + 3 * MINUTE }

    it('gives the raw points in [from, to), in time order', async () => {
      expect(await db.queries.series(range)).toEqual([
        { ts: base, value: 10 },
        { ts: base + 30 * SECOND, value: 20 },
        { ts: base + 60 * SECOND, value: 30 },
        { ts: base + 90 * SECOND, value: 50 },
        { ts: base + 120 * SECOND, value: 1.5 },
        { ts: base + 150 * SECOND, value: -5.5 },
      ])
    })

    it('gives mean, min, max and count per bucket', async () => {
      expect(await db.queries.series({ ...range, bucketMs: MINUTE })).toEqual([
        { ts: base, value: 15, min: 10, max: 20, count: 2 },
        { ts: base + MINUTE, value: 40, min: 30, max: 50, count: 2 },
        { ts: base + 2 * MINUTE, value: -2, min: -5.5, max: 1.5, count: 2 },
      ])
    })
  })

  describe('Queries.gaps', () => {
    it('counts the seqs missing between those that arrived, per device and boot, since a time', async () => {
      const since = Date.now() - 1_000
      await write([
        // 0..9 with 3, 4 and 7 missing; a repeat of 5 changes nothing.
        ...[0, 1, 2, 5, 6, 8, 9, 5].map((seq) => reading('gaps-a', seq, { boot: 'b1' })),
        // A second boot of the same device, whole.
        ...[0, 1, 2].map((seq) => reading('gaps-a', seq, { boot: 'b2' })),
        // Another device: 10 and 12 arrived, 11 did not.
        ...[10, 12].map((seq) => reading('gaps-b', seq)),
      ])

      expect(await db.queries.gaps({ since, devicePrefix: 'gaps-' })).toBe(4)
      expect(await db.queries.gaps({ since, devicePrefix: 'gaps-b' })).toBe(1)
      expect(await db.queries.gaps({ since: Date.now() + MINUTE, devicePrefix: 'gaps-' })).toBe(0)
    })
  })

  describe('ingest wired to the database', () => {
    const rules = overTemperature

    function pipeline() {
      const commands = new MemoryCommandPublisher()
      const deps = {
        store: db.telemetry,
        state: db.state,
        quarantine: db.quarantine,
        alerts: db.alerts,
        commands,
        clock: new ManualClock(NOW),
      }
      return { commands, run: (messages: InboundMessage[]) => ingest(messages, deps, { rules }) }
    }

    const temp = (deviceId: string, seq: number, temperature: number) =>
      message(wire({ deviceId, seq, ts: NOW - MINUTE + seq * SECOND, metrics: { temperature } }))

    async function rowCounts() {
      const tables = ['telemetry', 'devices', 'quarantine', 'alerts', 'alert_events', 'state']
      return Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await count(t)])))
    }

    it('settles a mixed batch, and a redelivery of it stores nothing new', async () => {
      const { run } = pipeline()
      const device = 'e2e-mixed'
      const batch = [
        message({ v: 1, deviceId: device, state: 'online', boot: 'b1' }, { topic: topics.status(device) }),
        temp(device, 1, 70),
        temp(device, 2, 72),
        temp(device, 2, 72),
        message('{"oops"', { topic: topics.telemetry(device) }),
        message(wire({ deviceId: 'e2e-mallory' }), { topic: topics.telemetry(device) }),
      ]
      const first = await run(batch)
      expect(first.records.map((r) => r.outcome)).toEqual([
        'stored',
        'stored',
        'stored',
        'duplicate',
        'quarantined',
        'quarantined',
      ])
      expect(first.counts).toEqual({
        received: 6,
        stored: 3,
        duplicates: 1,
        quarantined: 2,
        failed: 0,
        statuses: 1,
        alerts: 0,
        commands: 0,
      })
      expect(await telemetryRows(device)).toBe(2)
      expect((await db.quarantine.list({ deviceId: device })).map((e) => e.reason)).toEqual([
        'device_mismatch',
        'invalid_json',
      ])
      expect(await db.queries.latest(device)).toEqual([
        expect.objectContaining({ seq: 2, metrics: { temperature: 72 }, status: 'online' }),
      ])

      const before = await rowCounts()
      const again = await run(batch)
      expect(again.counts).toMatchObject({
        received: 6,
        stored: 1,
        statuses: 1,
        duplicates: 3,
        quarantined: 2,
      })
      // The quarantine logs every delivery of a refused message; nothing else grows.
      expect(await rowCounts()).toEqual({ ...before, quarantine: Number(before.quarantine) + 2 })
    })

    it('opens exactly one alert for an over-temperature episode, clears it, and ignores redelivery', async () => {
      const { commands, run } = pipeline()
      const device = 'e2e-hot'
      const rising = [temp(device, 1, 70), temp(device, 2, 85), temp(device, 3, 90)]
      const falling = [temp(device, 4, 78), temp(device, 5, 74), temp(device, 6, 72)]

      expect((await run(rising)).transitions.map((t) => [t.type, t.value])).toEqual([['opened', 85]])
      const [open] = await db.queries.alerts({ deviceId: device })
      expect(open).toMatchObject({
        state: 'open',
        openedAt: NOW - MINUTE + 2 * SECOND,
        value: 85,
        threshold: 80,
      })
      expect(commands.sent).toEqual([
        expect.objectContaining({ deviceId: device, id: `${open?.id}:safe-mode` }),
      ])

      expect((await run(falling)).transitions.map((t) => [t.type, t.value])).toEqual([['cleared', 74]])
      const settled = await db.queries.alerts({ deviceId: device })
      expect(settled).toEqual([{ ...open, state: 'cleared', clearedAt: NOW - MINUTE + 5 * SECOND }])

      const before = await rowCounts()
      const again = await run([...rising, ...falling])
      expect(again.counts).toMatchObject({ received: 6, stored: 0, duplicates: 6, alerts: 0, commands: 0 })
      expect(await rowCounts()).toEqual(before)
      expect(await db.queries.alerts({ deviceId: device })).toEqual(settled)
      expect(await count('alert_events', 'alert_id = $1', [open?.id])).toBe(2)
      expect(commands.sent).toHaveLength(1)
      const key = deviceStateKey(device)
      const { rules } = (await db.state.load<DeviceState>([key])).get(key)?.value ?? {}
      const at = (rules?.ids.indexOf('over-temperature') ?? -1) * SLOTS
      expect(at).toBeGreaterThanOrEqual(0)
      // The watermark, then a threshold rule's memory (it keeps none), then its lifecycle's times:
      // cleared at the reading that went back below 75, nothing waiting or open.
      expect(rules?.numbers.slice(at, at + SLOTS)).toEqual([
        NOW - MINUTE + 6 * SECOND,
        0,
        0,
        0,
        0,
        0,
        -1,
        -1,
        NOW - MINUTE + 5 * SECOND,
        -1,
      ])
      expect(rules?.alerts['over-temperature']).toBeUndefined()
    })
  })
})
