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
import { build } from 'esbuild'
import { SnsAlertSink, TimestreamTelemetryStore } from '../packages/aws/src/index.ts'

const OUT = '.fleetpipe/bench'
const ENTRY = 'functions/aws/src/index.ts'

async function bundle(name: string, deployed: boolean): Promise<string> {
  const outfile = join(OUT, `${name}.mjs`)
  await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outfile,
    logLevel: 'error',
    // As deployed (sst.config.ts): the runtime's AWS SDK v3 stays out, ESM entry points preferred, minified.
    ...(deployed ? { minify: true, mainFields: ['module', 'main'], external: ['@aws-sdk/*'] } : {}),
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  })
  return outfile
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

const deployed = await bundle('ingest-deployed', true)
const naive = await bundle('ingest-naive', false)
const kb = (file: string) => Math.round(statSync(file).size / 1024)

console.log('fleetpipe bench — the AWS ingest Lambda')
console.log(`  bundle as deployed       ${String(kb(deployed)).padStart(8)} KB   (target ≤ 150 KB)`)
console.log(`  naive bundle             ${String(kb(naive)).padStart(8)} KB`)
console.log(
  `  cold import, deployed    ${coldImportMs(deployed).toFixed(0).padStart(8)} ms   (target ≤ 60 ms)`,
)
console.log(`  cold import, naive       ${coldImportMs(naive).toFixed(0).padStart(8)} ms`)
console.log(
  `  WriteRecords calls per 1,000 messages of 5 metrics (1,000 devices) ${await writeRecordsPer1000()}   (floor 10)`,
)
console.log(
  `  SNS publishes per anomaly episode (opened, cleared)            ${await snsPublishesPerEpisode()}   (one per transition)`,
)
