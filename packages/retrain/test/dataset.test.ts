import { describe, expect, it } from 'vitest'
import { DatasetError, datasetLines, formatOf, labeler, readDataset } from '../src/index.ts'
import { chunked, collect, csv, ndjson, syntheticRows } from './_data.ts'

const rows = syntheticRows({ devices: 2, readingsPerDevice: 20, anomalyShare: 0.2 })

async function errorOf(text: string, format: 'ndjson' | 'csv'): Promise<DatasetError> {
  const error = await collect(readDataset(chunked(text, 7), format)).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(DatasetError)
  return error as DatasetError
}

describe('readDataset', () => {
  it('reads NDJSON and CSV back to the same readings and labels, whatever the chunking', async () => {
    for (const size of [1, 5, 64, 1 << 20]) {
      const fromNdjson = await collect(readDataset(chunked(ndjson(rows), size), 'ndjson'))
      const fromCsv = await collect(readDataset(chunked(csv(rows), size), 'csv'))
      const expected = rows.map(({ reading, label }) => ({ reading, label }))
      expect(fromNdjson.map(({ reading, label }) => ({ reading, label }))).toEqual(expected)
      expect(fromCsv.map(({ reading, label }) => ({ reading, label }))).toEqual(expected)
      expect(fromNdjson.map((r) => r.line)).toEqual(rows.map((_, i) => i + 1))
      expect(fromCsv.map((r) => r.line)).toEqual(rows.map((_, i) => i + 2))
    }
  })

  it('takes CSV as people write it: CRLF, ISO times, quoted cells, empty cells, no seq, label words', async () => {
    const text = [
      'deviceId,ts,temperature,"vibration",label',
      '"motor-1",2026-11-23T12:00:00Z,35.5,0.1,normal',
      'motor-1,1795435260000,,0.2,ANOMALY',
      'motor-2,1795435260000,36,0.3,',
    ].join('\r\n')
    const read = await collect(readDataset(chunked(text, 3), 'csv'))
    expect(read).toEqual([
      {
        line: 2,
        label: false,
        reading: {
          deviceId: 'motor-1',
          boot: '',
          seq: 2,
          ts: Date.parse('2026-11-23T12:00:00Z'),
          metrics: { temperature: 35.5, vibration: 0.1 },
        },
      },
      {
        line: 3,
        label: true,
        reading: { deviceId: 'motor-1', boot: '', seq: 3, ts: 1795435260000, metrics: { vibration: 0.2 } },
      },
      {
        line: 4,
        label: undefined,
        reading: {
          deviceId: 'motor-2',
          boot: '',
          seq: 4,
          ts: 1795435260000,
          metrics: { temperature: 36, vibration: 0.3 },
        },
      },
    ])
  })

  it('keeps a multi-byte character cut between chunks whole', async () => {
    // Unknown fields are ignored, as in a wire message; one holding "é" (2 bytes) is cut at every offset.
    const text = '{"v":1,"note":"é","deviceId":"m-1","ts":1,"seq":0,"metrics":{"t":1}}\n{"bad":"é'
    for (const size of [1, 2, 3]) {
      const error = await collect(readDataset(chunked(text, size), 'ndjson')).catch((e: unknown) => e)
      // Line 1 decodes and parses; line 2 is cut short JSON, not a decoding error.
      expect((error as Error).message).toMatch(/^line 2: not JSON/)
    }
  })

  it('names the line and the field of the first bad row', async () => {
    const good = '{"deviceId":"m-1","ts":1,"seq":0,"metrics":{"t":1}}'
    expect((await errorOf(`${good}\n${good}\n{"deviceId":"m-1",`, 'ndjson')).message).toMatch(
      /^line 3: not JSON/,
    )
    expect((await errorOf(`${good}\n[1,2]`, 'ndjson')).message).toBe(
      'line 2: not a JSON object (one reading per line)',
    )
    expect(
      (await errorOf(`\n\n{"deviceId":"m 1","ts":1,"seq":0,"metrics":{"t":1}}`, 'ndjson')).message,
    ).toMatch(/^line 3: deviceId: /)
    expect(
      (await errorOf('{"deviceId":"m-1","ts":1,"seq":0,"metrics":{"t":"hot"}}', 'ndjson')).message,
    ).toMatch(/^line 1: metrics\.t: /)
    expect((await errorOf(`${good.slice(0, -1)},"label":"maybe"}`, 'ndjson')).message).toBe(
      'line 1: label: "maybe" is not 1/true/anomaly or 0/false/normal',
    )
    expect((await errorOf('deviceId,temperature\nm-1,3', 'csv')).message).toBe(
      'line 1: the header has no ts column',
    )
    expect((await errorOf('deviceId,ts,Temp\nm-1,1,3', 'csv')).message).toMatch(
      /^line 1: column 3 "Temp": not a metric name/,
    )
    expect((await errorOf('deviceId,ts,t\nm-1,1,3\nm-1,2', 'csv')).message).toBe(
      'line 3: 2 cells, the header has 3',
    )
    expect((await errorOf('deviceId,ts,t\nm-1,1,warm', 'csv')).message).toBe(
      'line 2: t: "warm" is not a number',
    )
    expect((await errorOf('deviceId,ts,t\n"m-1,1,3', 'csv')).message).toBe(
      'line 2: a quoted cell is not closed on its line',
    )
    expect((await errorOf('deviceId,ts,t\nm-1,yesterday,3', 'csv')).message).toMatch(/^line 2: ts: /)
  })

  it('refuses a line longer than a wire message instead of buffering it', async () => {
    const error = await errorOf(`{"pad":"${'x'.repeat(200_000)}"}`, 'ndjson')
    expect(error.message).toMatch(/^line 1: longer than 131072 bytes/)
    expect(error.line).toBe(1)
  })

  it('refuses bytes that are not UTF-8', async () => {
    const error = await collect(
      readDataset(
        (async function* () {
          yield Uint8Array.of(0x7b, 0xff, 0x7d, 0x0a)
        })(),
        'ndjson',
      ),
    ).catch((e: unknown) => e)
    expect((error as Error).message).toBe('line 1: not UTF-8 text')
  })

  it('knows a dataset by its suffix', () => {
    expect(formatOf('datasets/motor/a.NDJSON')).toBe('ndjson')
    expect(formatOf('datasets/motor/a.jsonl')).toBe('ndjson')
    expect(formatOf('datasets/motor/a.csv')).toBe('csv')
    expect(formatOf('datasets/motor/a.parquet')).toBeUndefined()
  })
})

describe('labeled datasets from the simulator', () => {
  it('labels readings inside a value-changing episode of their own device, and no others', async () => {
    const label = labeler([
      { deviceId: 'm-1', kind: 'overheat', startTs: 10, endTs: 20 },
      { deviceId: 'm-1', kind: 'dropout', startTs: 30, endTs: 40 },
      { deviceId: 'm-2', kind: 'spike', startTs: 35, endTs: 35 },
    ])
    const reading = (deviceId: string, ts: number) => ({ deviceId, ts, seq: ts, metrics: { t: 1 } })
    expect(
      [
        reading('m-1', 9),
        reading('m-1', 10),
        reading('m-1', 20),
        reading('m-1', 35),
        reading('m-2', 15),
        reading('m-2', 35),
      ].map(label),
    ).toEqual([false, true, true, false, false, true])
    const lines = [...datasetLines([{ reading: reading('m-1', 10), label: true }], { format: 'csv' })]
    expect(lines).toEqual(['deviceId,ts,seq,boot,fw,t,label\n', 'm-1,10,10,,,1,1\n'])
  })
})
