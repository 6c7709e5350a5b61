/**
 * The `fleetpipe` command: `dev` runs the local pipeline, `sim` runs only the simulated fleet
 * against a broker, `query` reads the store, `alerts` lists and acknowledges alerts, `quarantine`
 * lists refused messages and replays them through ingest.
 */
import { parseArgs } from 'node:util'
import {
  ConfigError,
  parseDuration,
  QUARANTINE_REASONS,
  type QuarantineReason,
  RulesError,
} from '@fleetpipe/core'
import type { Database } from '@fleetpipe/postgres'
import { type Config, configFlags, flagsToConfigKeys, loadConfig } from './config.ts'
import { runDev } from './dev.ts'
import { evalCommand, evalFlags } from './eval.ts'
import { formatTable } from './format.ts'
import { modelsCommand, retrainCommand, retrainFlags } from './retrain-cli.ts'
import { loadSimConfig, runSim, type SimConfig, simFlags } from './sim.ts'
import { openForTools, replayQuarantine } from './tools.ts'

const USAGE = `fleetpipe — telemetry pipeline for device fleets

Usage:
  fleetpipe dev [--devices N] [--rate HZ] [--duration S] [--broker URL | --broker-port P]
                [--database URL | --data-dir DIR] [--rules FILE] [--seed N] [--faults SPEC] [--cloud local|aws|gcp|azure]
                [--drift-threshold ALERTS_PER_1000 [--drift-window 1h]] [--json]
  fleetpipe sim --broker URL [--profile local|aws|azure] [--devices N] [--rate HZ] [--duration S]
                [--seed N] [--id-prefix P] [--faults KIND:P|T[+D][@GLOB][@N%],…] [--types motor:80,env:15,power:5]
                [--batch N] [--sleep] [--outbox-kb KB] [--outbox-expiry S] [--export-dataset FILE] [--json]
                aws:   --cert FILE --key FILE [--ca FILE]     (--broker mqtts://…-ats.iot.REGION.amazonaws.com[:443])
                azure: --device-key KEY | --hub-key KEY --hub-key-name NAME   (--broker mqtts://HUB.azure-devices.net)
  fleetpipe query [latest|series|alerts|counts] [--device ID] [--metric NAME]
                  [--since 1h] [--bucket 1m] [--open] [--json]
  fleetpipe alerts [list] [--open] [--device ID] [--json]
  fleetpipe alerts ack ID [ID…]
  fleetpipe quarantine [list|replay] [--reason R] [--device ID] [--id N] [--limit N] [--all] [--json]
  fleetpipe eval [--devices N] [--hours H] [--interval S] [--seed N] [--rules FILE] [--json]
  fleetpipe retrain [--dataset FILE --type DEVICE_TYPE] [--json]   (without --dataset: the runs so far)
  fleetpipe models [--type DEVICE_TYPE] [--json]

Every flag can also be set as FLEETPIPE_<FLAG> (e.g. FLEETPIPE_DATABASE=postgres://…).`

const toolFlags = {
  device: { type: 'string' },
  metric: { type: 'string' },
  since: { type: 'string' },
  bucket: { type: 'string' },
  open: { type: 'boolean' },
  reason: { type: 'string' },
  id: { type: 'string', multiple: true },
  limit: { type: 'string' },
  all: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...configFlags(), ...simFlags(), ...evalFlags(), ...toolFlags, ...retrainFlags },
    allowPositionals: true,
    strict: true,
  })
  const [command = 'help', sub, ...rest] = positionals
  if (values.help || command === 'help') {
    console.log(USAGE)
    return 0
  }
  if (command === 'sim') return sim(loadSimConfig(values))
  if (command === 'eval') return evalCommand(values)
  const config = loadConfig(flagsToConfigKeys(values))
  switch (command) {
    case 'dev':
      return dev(config)
    case 'query':
      return query(config, sub ?? 'overview', values)
    case 'alerts':
      return alerts(config, sub ?? 'list', rest, values)
    case 'quarantine':
      return quarantine(config, sub ?? 'list', values)
    case 'retrain':
      return retrainCommand(config, values)
    case 'models':
      return modelsCommand(config, values)
    default:
      throw new ConfigError(`unknown command ${command}\n\n${USAGE}`)
  }
}

/** Resolves on Ctrl-C or SIGTERM: the long-running commands then stop cleanly. */
function interrupted(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
}

/** Lines for people on stderr, with a status line that redraws in place on a terminal. */
function terminal() {
  const tty = process.stderr.isTTY
  return {
    io: {
      out: (line: string) => console.log(line),
      err: (line: string) => process.stderr.write(`${tty ? '\r\x1b[K' : ''}${line}\n`),
      status: tty ? (line: string) => process.stderr.write(`\r\x1b[K${line}`) : undefined,
    },
    /** Clears the status line before the summary. */
    done: () => {
      if (tty) process.stderr.write('\r\x1b[K')
    },
  }
}

async function dev(config: Config): Promise<number> {
  const { io, done } = terminal()
  const summary = await runDev(config, io, interrupted())
  done()
  if (config.json) console.log(JSON.stringify(summary))
  else {
    console.log(
      formatTable([
        { what: 'published', n: summary.published },
        ...(summary.accepted === null ? [] : [{ what: 'accepted by the broker', n: summary.accepted }]),
        { what: 'received', n: summary.received },
        { what: 'stored', n: summary.stored },
        { what: '  of which status updates', n: summary.statuses },
        { what: 'duplicates', n: summary.duplicates },
        { what: 'quarantined', n: summary.quarantined },
        { what: 'failed', n: summary.failed },
        { what: 'lost', n: summary.lost },
        { what: 'missing by seq (gaps)', n: summary.gaps },
        { what: 'alert transitions', n: summary.alerts },
      ]),
    )
    console.log(`\n${summary.seconds} s · data in ${summary.database} · query it with: npx fleetpipe query`)
  }
  return summary.lost === 0 ? 0 : 1
}

async function sim(config: SimConfig): Promise<number> {
  const { io, done } = terminal()
  const summary = await runSim(config, io, interrupted())
  done()
  if (config.json) console.log(JSON.stringify(summary))
  else {
    const { p50, p99 } = summary.ackLatencyMs
    console.log(
      formatTable([
        { what: 'published', n: summary.published },
        { what: 'acknowledged', n: summary.acknowledged },
        { what: 'failed', n: summary.failed },
        { what: 'dropped while offline', n: summary.dropped },
        { what: 'ack latency p50 (ms)', n: p50 ?? '' },
        { what: 'ack latency p99 (ms)', n: p99 ?? '' },
      ]),
    )
    console.log(
      `\n${summary.devices} devices · ${summary.seconds} s · ${summary.profile} profile · ${summary.broker}`,
    )
  }
  return summary.failed === 0 && summary.acknowledged === summary.published ? 0 : 1
}

type ToolValues = {
  [K in keyof typeof toolFlags]?: (typeof toolFlags)[K] extends { multiple: true }
    ? string[]
    : string | boolean
}

async function query(config: Config, what: string, values: ToolValues): Promise<number> {
  const db = await openForTools(config)
  try {
    const device = values.device as string | undefined
    let rows: object[]
    switch (what) {
      case 'overview':
      case 'counts':
        rows = [await db.queries.counts()]
        if (what === 'overview') rows = [...rows, ...(await db.queries.latest())]
        break
      case 'latest':
        rows = (await db.queries.latest(device)).map(({ metrics, ...rest }) => ({
          ...rest,
          ts: new Date(rest.ts).toISOString(),
          ...metrics,
        }))
        break
      case 'series': {
        if (!device || !values.metric)
          throw new ConfigError('query series needs --device ID and --metric NAME')
        const to = Date.now()
        const from = to - duration(String(values.since ?? '1h'), '--since')
        const bucketMs = values.bucket ? duration(String(values.bucket), '--bucket') : undefined
        rows = (
          await db.queries.series({ deviceId: device, metric: String(values.metric), from, to, bucketMs })
        ).map((p) => ({ ...p, ts: new Date(p.ts).toISOString() }))
        break
      }
      case 'alerts':
        rows = await alertRows(db, values)
        break
      default:
        throw new ConfigError(`unknown query ${what}: use latest, series, alerts or counts`)
    }
    print(config, rows)
    return 0
  } finally {
    await db.close()
  }
}

/** Alerts, newest first, with times people read. */
async function alertRows(db: Database, values: ToolValues): Promise<object[]> {
  const list = await db.queries.alerts({
    state: values.open ? 'open' : undefined,
    deviceId: values.device as string | undefined,
  })
  const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString())
  return list.map((a) => ({
    ...a,
    openedAt: iso(a.openedAt),
    clearedAt: iso(a.clearedAt),
    acknowledgedAt: iso(a.acknowledgedAt),
  }))
}

/** `alerts` lists them; `alerts ack ID…` marks them seen, and fails naming any id it does not know. */
async function alerts(config: Config, what: string, ids: string[], values: ToolValues): Promise<number> {
  const db = await openForTools(config)
  try {
    if (what === 'list') {
      print(config, await alertRows(db, values))
      return 0
    }
    if (what === 'ack') {
      if (ids.length === 0)
        throw new ConfigError('alerts ack needs the id of an alert (see fleetpipe alerts)')
      const now = Date.now()
      const unknown: string[] = []
      for (const id of ids) if (!(await db.alerts.acknowledge(id, now))) unknown.push(id)
      for (const id of ids) if (!unknown.includes(id)) process.stderr.write(`acknowledged ${id}\n`)
      if (unknown.length > 0) {
        process.stderr.write(`fleetpipe: no alert ${unknown.join(', ')}\n`)
        return 1
      }
      return 0
    }
    throw new ConfigError(`unknown alerts command ${what}: use list or ack`)
  } finally {
    await db.close()
  }
}

async function quarantine(config: Config, what: string, values: ToolValues): Promise<number> {
  const reason = values.reason as string | undefined
  if (reason && !QUARANTINE_REASONS.includes(reason as QuarantineReason)) {
    throw new ConfigError(`--reason must be one of ${QUARANTINE_REASONS.join(', ')}`)
  }
  const filter = {
    reason: reason as QuarantineReason | undefined,
    deviceId: values.device as string | undefined,
    limit: values.limit ? Number(values.limit) : undefined,
    all: Boolean(values.all),
    ids: (values.id as string[] | undefined)?.map(Number),
  }
  const db = await openForTools(config)
  try {
    if (what === 'list') {
      const entries = await db.quarantine.list(filter)
      print(
        config,
        entries
          .filter((e) => !filter.ids || filter.ids.includes(e.id))
          .map((e) => ({
            id: e.id,
            receivedAt: new Date(e.receivedAt).toISOString(),
            reason: e.reason,
            path: e.path,
            deviceId: e.deviceId ?? '',
            message: e.message,
            ...(config.json ? { topic: e.topic, raw: e.raw, rawEncoding: e.rawEncoding } : {}),
          })),
      )
      return 0
    }
    if (what === 'replay') {
      const results = await replayQuarantine(db, config, filter, (line) => process.stderr.write(`${line}\n`))
      print(config, results)
      return 0
    }
    throw new ConfigError(`unknown quarantine command ${what}: use list or replay`)
  } finally {
    await db.close()
  }
}

function print(config: Config, rows: object[]) {
  if (config.json) console.log(JSON.stringify(rows))
  else console.log(rows.length ? formatTable(rows) : '(nothing)')
}

function duration(text: string, flag: string): number {
  const ms = parseDuration(text)
  if (ms === undefined) throw new ConfigError(`${flag} must be a duration such as 30s, 15m, 1h or 7d`)
  return ms
}

export async function run(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv)
  } catch (error) {
    const known =
      error instanceof ConfigError ||
      error instanceof RulesError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    console.error(`fleetpipe: ${known ? (error as Error).message : (error as Error).stack}`)
    process.exitCode = 2
  }
}
