/**
 * `npm run bench` (the simulator's block), or alone: `node --import tsx --expose-gc bench/sim.ts`.
 *
 *   fleet → mosquitto   N devices at 1 Hz in this one process, to Mosquitto on 127.0.0.1:1883
 *   fleet → aedes       the same, to the embedded broker `fleetpipe dev` runs (in a child process)
 *   max publish rate    100 sessions publishing QoS 1 as fast as acknowledgements allow, the fleet's
 *                       sessions against a bare mqtt.js loop over as many clients, same broker
 *
 * Targets: 10,000 devices at 1 Hz per process, RSS ≤ 30 KB per device, tick jitter p99 ≤ 100 ms.
 * Flags: --devices N (10000) --seconds S (30, at most 60) --broker URL (mqtt://127.0.0.1:1883) --json
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { parseArgs } from 'node:util'
import { type FleetWindow, startFleet } from '@fleetpipe/firmware-sim'
import mqtt, { type MqttClient } from 'mqtt'

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '30' },
    broker: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
})
const DEVICES = Number(values.devices)
const SECONDS = Math.min(60, Number(values.seconds))
const MOSQUITTO = values.broker as string
if (!/^mqtts?:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(MOSQUITTO)) {
  throw new Error(`the bench only drives a broker on 127.0.0.1, not ${MOSQUITTO}`)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const gc = () => (globalThis as { gc?: () => void }).gc?.()
const rss = () => process.memoryUsage().rss
const fmt = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits })

interface FleetRun {
  broker: string
  devices: number
  connectMs: number
  /** Resident memory the fleet added, per device, once connected (first second of the run). */
  rssPerDeviceKb: number
  /** The most it added at any second of the run, with traffic flowing and garbage not yet collected. */
  rssPerDeviceUnderLoadKb: number
  published: number
  acked: number
  failed: number
  dropped: number
  ackedPerSec: number
  tickJitterP99Ms: number | null
  tickJitterMaxMs: number | null
  ackLatencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null }
  /** The worst second's tick jitter p99, and the median second's. */
  worstSecondJitterP99Ms: number | null
  medianSecondJitterP99Ms: number | null
  minConnected: number
}

async function settle(): Promise<number> {
  gc()
  await sleep(300)
  gc()
  return rss()
}

async function fleetRun(label: string, brokerUrl: string): Promise<FleetRun> {
  const before = await settle()
  const started = Date.now()
  const fleet = await startFleet({
    brokerUrl,
    devices: DEVICES,
    rateHz: 1,
    seed: 1,
    idPrefix: `bench-${label}-`,
    anomalyChance: 0,
  })
  const connectMs = Date.now() - started
  // No forced GC from here on: its pause would show up as tick jitter the fleet did not cause.
  const idle = rss()
  let peak = idle
  fleet.window()
  const windows: FleetWindow[] = []
  const run = Date.now()
  let minConnected = DEVICES
  while (Date.now() - run < SECONDS * 1_000) {
    await sleep(1_000)
    const w = fleet.window()
    peak = Math.max(peak, rss())
    windows.push(w)
    minConnected = Math.min(minConnected, w.connected)
    process.stderr.write(
      `\r  ${label.padEnd(10)} ${Math.round((Date.now() - run) / 1000)}/${SECONDS} s · ${w.connected} connected · ${w.published} published/s · ${w.acked} acked/s · jitter p99 ${fmt(w.tickJitterP99Ms, 1)} ms   `,
    )
  }
  const elapsed = (Date.now() - run) / 1_000
  const during = fleet.stats()
  await fleet.stop()
  process.stderr.write('\r\x1b[K')
  await forgetStatuses(brokerUrl, fleet.deviceIds)
  const stats = fleet.stats()
  const worst = windows.map((w) => w.tickJitterP99Ms ?? 0).reduce((a, b) => Math.max(a, b), 0)
  const sorted = windows.map((w) => w.tickJitterP99Ms ?? 0).sort((a, b) => a - b)
  const medianSecond = sorted[Math.floor(sorted.length / 2)] ?? null
  return {
    broker: brokerUrl,
    devices: DEVICES,
    connectMs,
    rssPerDeviceKb: round((idle - before) / DEVICES / 1024, 1),
    rssPerDeviceUnderLoadKb: round((peak - before) / DEVICES / 1024, 1),
    published: stats.published,
    acked: stats.acked,
    failed: stats.failed,
    dropped: stats.dropped,
    ackedPerSec: Math.round(during.acked / (elapsed + connectMs / 1000)),
    tickJitterP99Ms: stats.tickJitterMs?.p99 ?? null,
    tickJitterMaxMs: stats.tickJitterMs?.max ?? null,
    ackLatencyMs: {
      p50: stats.ackLatencyMs.p50,
      p90: stats.ackLatencyMs.p90 ?? null,
      p99: stats.ackLatencyMs.p99,
      max: stats.ackLatencyMs.max ?? null,
    },
    worstSecondJitterP99Ms: worst,
    medianSecondJitterP99Ms: medianSecond,
    minConnected,
  }
}

/**
 * Clears the retained statuses the run left: 10,000 of them on a shared Mosquitto would flood
 * every later `fleet/+/status` subscriber (and overflow its queue).
 */
async function forgetStatuses(brokerUrl: string, deviceIds: readonly string[]): Promise<void> {
  const client = await mqtt.connectAsync(brokerUrl, { clientId: `bench-forget-${process.pid}` })
  for (const id of deviceIds) client.publish(`fleet/${id}/status`, '', { qos: 0, retain: true })
  await client.publishAsync('fleet/bench-forget/status', '', { qos: 1, retain: true })
  await client.endAsync()
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits

/** The embedded broker, as `fleetpipe dev` runs it, in a process of its own. */
async function childAedes(): Promise<{ url: string; child: ChildProcess }> {
  const script = `
    const { startBroker } = await import('@fleetpipe/local')
    const broker = await startBroker({ port: 0 })
    console.log(broker.url)
    process.stdin.on('end', () => broker.close().then(() => process.exit(0)))
    process.stdin.resume()`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk) => {
      out += chunk
      const match = /mqtt:\/\/\S+/.exec(out)
      if (match) resolve(match[0])
    })
    child.once('exit', (code) => reject(new Error(`aedes child exited with ${code}`)))
  })
  return { url, child }
}

const RATE_CLIENTS = 100
const RATE_SECONDS = 8
const WINDOW = 16

/** A bare mqtt.js loop: each client keeps WINDOW QoS 1 publishes in flight, as fast as PUBACKs come. */
async function bareMqttJs(brokerUrl: string): Promise<number> {
  const payload = JSON.stringify({
    v: 1,
    deviceId: 'bench-bare-0001',
    ts: Date.now(),
    seq: 1,
    boot: 'a1b2c3d4',
    metrics: { temperature: 31.2, vibration: 0.15, current: 4.02 },
    fw: '1.4.2',
  })
  const clients: MqttClient[] = await Promise.all(
    Array.from({ length: RATE_CLIENTS }, (_, i) =>
      mqtt.connectAsync(brokerUrl, { clientId: `bench-bare-${i}`, clean: true, reconnectPeriod: 0 }),
    ),
  )
  for (const client of clients) (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true)
  let acked = 0
  let running = true
  const topic = (i: number) => `fleet/bench-bare-${i}/telemetry`
  const loop = (client: MqttClient, i: number) => {
    const next = () => {
      acked++
      if (running) client.publish(topic(i), payload, { qos: 1 }, next)
    }
    for (let k = 0; k < WINDOW; k++) client.publish(topic(i), payload, { qos: 1 }, next)
  }
  await sleep(500)
  clients.forEach(loop)
  await sleep(1_000)
  const from = acked
  const start = performance.now()
  await sleep(RATE_SECONDS * 1_000)
  const rate = ((acked - from) / (performance.now() - start)) * 1_000
  running = false
  await Promise.all(clients.map((client) => client.endAsync(true)))
  return rate
}

/** The fleet's sessions, offered far more than they can send: what the PUBACKs let through. */
async function fleetMaxRate(brokerUrl: string): Promise<number> {
  const fleet = await startFleet({
    brokerUrl,
    devices: RATE_CLIENTS,
    rateHz: 1_000,
    seed: 1,
    idPrefix: 'bench-rate-',
    anomalyChance: 0,
    // A window of about WINDOW publishes, as the bare loop keeps.
    outbox: { limitBytes: WINDOW * 200 },
  })
  await sleep(1_000)
  const from = fleet.stats().acked
  const start = performance.now()
  await sleep(RATE_SECONDS * 1_000)
  const rate = ((fleet.stats().acked - from) / (performance.now() - start)) * 1_000
  await fleet.stop()
  await forgetStatuses(brokerUrl, fleet.deviceIds)
  return rate
}

const results: Record<string, unknown> = {}
const only = values.only
console.log(`fleetpipe sim bench — node ${process.version}, ${DEVICES} devices at 1 Hz for ${SECONDS} s`)
const line = (name: string, r: FleetRun) =>
  console.log(
    `  ${name.padEnd(17)} ${fmt(r.minConnected)}/${fmt(r.devices)} connected (in ${fmt(r.connectMs)} ms) · ` +
      `${fmt(r.ackedPerSec)} acked/s · RSS ${r.rssPerDeviceKb} KB/device idle, ${r.rssPerDeviceUnderLoadKb} under load (target ≤ 30) · ` +
      `tick jitter p99 ${fmt(r.tickJitterP99Ms, 1)} ms (target ≤ 100), worst second ${fmt(r.worstSecondJitterP99Ms, 1)} · ` +
      `ack p50/p90/p99 ${fmt(r.ackLatencyMs.p50, 1)}/${fmt(r.ackLatencyMs.p90, 1)}/${fmt(r.ackLatencyMs.p99, 1)} ms · ` +
      `failed ${r.failed}, dropped ${r.dropped}`,
  )
if (!only || only === 'mosquitto') {
  const r = await fleetRun('mosquitto', MOSQUITTO)
  results.mosquitto = r
  line('fleet → mosquitto', r)
}
if (!only || only === 'aedes') {
  const { url, child } = await childAedes()
  try {
    const r = await fleetRun('aedes', url)
    results.aedes = r
    line('fleet → aedes', r)
  } finally {
    child.stdin?.end()
  }
}
if (!only || only === 'rate') {
  const bare = await bareMqttJs(MOSQUITTO)
  const sim = await fleetMaxRate(MOSQUITTO)
  results.maxRate = {
    clients: RATE_CLIENTS,
    window: WINDOW,
    bareMqttJs: Math.round(bare),
    fleet: Math.round(sim),
  }
  console.log(
    `  max publish rate  fleet ${fmt(sim)} msg/s vs bare mqtt.js ${fmt(bare)} msg/s (${((sim / bare) * 100).toFixed(0)} %), ` +
      `${RATE_CLIENTS} connections, QoS 1, ~${WINDOW} in flight each, to mosquitto`,
  )
}
if (values.json) console.log(JSON.stringify(results))
