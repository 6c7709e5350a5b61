/**
 * The AWS edge, as deployed: the ingest Lambda's bundle size and cold import time (against a
 * naive bundle of the same handler), and how many AWS calls the adapters make per unit of work.
 * Counting clients stand in for the AWS SDK clients: they record each command sent and succeed.
 */
import { execFileSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { type InboundMessage, ingest, parseRules } from '@fleetpipe/core'
import { ManualClock, memoryDeps } from '@fleetpipe/core/memory'
import { build, type Plugin } from 'esbuild'
import { SnsAlertSink, TimestreamTelemetryStore } from '../packages/aws/src/index.ts'

const OUT = '.fleetpipe/bench'
const ENTRY = 'functions/aws/src/index.ts'

type Variant = 'deployed' | 'naive' | 'sdk-bundled' | 'own-code'

/**
 * - deployed: as sst.config.ts builds it — minified, ESM entry points, the runtime's AWS SDK v3 left
 *   out (it is imported from the runtime at init, so its load time still counts).
 * - naive: the same handler bundled with esbuild's defaults (SDK inside, CommonJS entry points).
 * - sdk-bundled: deployed, but with the SDK clients inside the bundle instead of the runtime's.
 * - own-code: deployed, with every `@aws-sdk/*` import answered by an empty module: what fleetpipe's
 *   code, zod and Powertools cost at init on their own.
 */
async function bundle(variant: Variant): Promise<string> {
  const outfile = join(OUT, `ingest-${variant}.mjs`)
  const minified = variant !== 'naive'
  await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outfile,
    logLevel: 'error',
    ...(minified ? { minify: true, mainFields: ['module', 'main'] } : {}),
    ...(variant === 'deployed' ? { external: ['@aws-sdk/*'] } : {}),
    plugins: variant === 'own-code' ? [emptySdk] : [],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  })
  return outfile
}

/** Answers every `@aws-sdk/*` import with a module whose every export is an empty class. */
const emptySdk: Plugin = {
  name: 'empty-aws-sdk',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\// }, (args) => ({ path: args.path, namespace: 'empty-sdk' }))
    build.onLoad({ filter: /.*/, namespace: 'empty-sdk' }, () => ({
      contents:
        'module.exports = new Proxy({}, { get: (_, name) => name === "__esModule" ? false : class {} })',
      loader: 'js',
    }))
  },
}

/** Median over fresh Node processes of the time to import the bundle, as a cold start does. */
function coldImportMs(file: string, runs = 7): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(`./${file}`)}); console.log(performance.now() - t)`
  const times = Array.from({ length: runs }, () =>
    Number(
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim(),
    ),
  )
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)] as number
}

/** A stand-in SDK client: counts what is sent, answers success. */
function countingClient() {
  const sent: unknown[] = []
  return {
    sent,
    send: async (command: unknown) => {
      sent.push(command)
      return {}
    },
  }
}

async function writeRecordsPer1000(): Promise<number> {
  const client = countingClient()
  const store = new TimestreamTelemetryStore(client as never, { database: 'fleetpipe', table: 'telemetry' })
  const now = Date.now()
  const messages: InboundMessage[] = Array.from({ length: 1_000 }, (_, i) => {
    const deviceId = `esp32-${String(i).padStart(4, '0')}`
    const metrics = { temperature: 24, vibration: 0.1, current: 4.2, humidity: 40, voltage: 3.3 }
    return {
      topic: `fleet/${deviceId}/telemetry`,
      payload: JSON.stringify({ v: 1, deviceId, ts: now - 1_000, seq: 1, metrics }),
      receivedAt: now,
      source: 'bench',
    }
  })
  await ingest(messages, { ...memoryDeps(new ManualClock(now)), store }, { rules: [] })
  return client.sent.length
}

async function snsPublishesPerEpisode(): Promise<number> {
  const client = countingClient()
  const rules = parseRules([
    { id: 'hot', kind: 'threshold', metric: 'temperature', above: 80, clear: 75, severity: 'critical' },
  ])
  const now = Date.now()
  const deps = {
    ...memoryDeps(new ManualClock(now)),
    alerts: new SnsAlertSink(client as never, { topicArn: 'arn' }),
  }
  // One episode: normal, a minute above the threshold with the value wandering, back to normal.
  const series = [30, 31, 85, 88, 79, 91, 86, 77, 74, 30, 29]
  for (const [seq, temperature] of series.entries()) {
    const payload = JSON.stringify({
      v: 1,
      deviceId: 'd1',
      ts: now - 60_000 + seq * 1_000,
      seq,
      metrics: { temperature },
    })
    await ingest([{ topic: 'fleet/d1/telemetry', payload, receivedAt: now, source: 'bench' }], deps, {
      rules,
    })
  }
  return client.sent.length
}

const kb = (file: string) => Math.round(statSync(file).size / 1024)
const row = (label: string, value: string, unit: string, note = '') =>
  console.log(`  ${label.padEnd(54)} ${value.padStart(6)} ${unit}${note ? `   ${note}` : ''}`)

console.log('fleetpipe bench — the AWS ingest Lambda')
const files: Record<Variant, string> = {
  deployed: await bundle('deployed'),
  naive: await bundle('naive'),
  'sdk-bundled': await bundle('sdk-bundled'),
  'own-code': await bundle('own-code'),
}
row('bundle as deployed (SDK from the runtime)', String(kb(files.deployed)), 'KB', '(target ≤ 150 KB)')
row('naive bundle', String(kb(files.naive)), 'KB')
row('bundle with the SDK inside', String(kb(files['sdk-bundled'])), 'KB')
row(
  'cold import, own code (fleetpipe, zod, Powertools)',
  coldImportMs(files['own-code']).toFixed(0),
  'ms',
  '(target ≤ 60 ms)',
)
row('cold import, deployed (+ the SDK clients it loads)', coldImportMs(files.deployed).toFixed(0), 'ms')
row('cold import, naive', coldImportMs(files.naive).toFixed(0), 'ms')
row('cold import, SDK inside the bundle', coldImportMs(files['sdk-bundled']).toFixed(0), 'ms')
row(
  'WriteRecords calls per 1,000 messages (1,000 devices)',
  String(await writeRecordsPer1000()),
  '',
  '(floor 10)',
)
row(
  'SNS publishes per anomaly episode (opened, cleared)',
  String(await snsPublishesPerEpisode()),
  '',
  '(one per transition)',
)
