/**
 * `fleetpipe dev`: the whole pipeline on embedded parts — broker, store, bridge and a simulated
 * fleet — until Ctrl-C or `--duration`, then a clean shutdown and a summary.
 */
import {
  type AlertSink,
  ConfigError,
  DriftWatch,
  defaultDeviceTypes,
  defaultRules,
  formatDuration,
  systemClock,
} from '@fleetpipe/core'
import { startFleet } from '@fleetpipe/firmware-sim'
import { openDatabase, PostgresDatasetSource, serveEmbedded } from '@fleetpipe/postgres'
import { LogAlertSink } from './alert-sinks.ts'
import { Bridge } from './bridge.ts'
import { type EmbeddedBroker, startBrokerWithFallback } from './broker.ts'
import { CLOUD_PATHS, type CloudIngest, cloudIngest } from './cloud-ingest.ts'
import type { Config } from './config.ts'
import { announceServer, runningServer } from './embedded-server.ts'
import { MqttCommandPublisher } from './mqtt-commands.ts'
import { fleetTooLarge, openFileLimit } from './open-files.ts'
import { localDeps } from './pipeline.ts'
import { backgroundTrigger, FolderModelSource, localRetrain, logNotifier, watchDatasets } from './retrain.ts'
import { loadRulesDocument } from './rules-file.ts'
import { startSweeper } from './sweeper.ts'

export interface Io {
  /** Results: the summary (and, with --json, nothing else). */
  out(line: string): void
  /** People's feedback: progress, alerts, the status line. */
  err(line: string): void
  /** Rewrites the status line in place when stderr is a terminal. */
  status?(line: string): void
}

export interface Summary {
  published: number
  received: number
  stored: number
  duplicates: number
  quarantined: number
  failed: number
  /**
   * Messages the embedded broker took from devices (telemetry and status, this run's fleet or any
   * other publisher such as `fleetpipe sim`); null with an external broker, which dev cannot count.
   */
  accepted: number | null
  /**
   * Messages not accounted for: with the embedded broker, accepted but never settled (every record
   * stored, a duplicate or quarantined); with an external broker, received but never settled.
   */
  lost: number
  /** Retained messages the broker replayed when the bridge subscribed: old state, not ingested again. */
  retained: number
  /**
   * Readings missing by `seq` between those stored this run, on any device: dropouts and device-side
   * drops, and what a broker dropped where `accepted` cannot say (see `Queries.gaps`).
   */
  gaps: number
  statuses: number
  alerts: number
  commands: number
  devices: number
  seconds: number
  database: string
  broker: string
}

/** How often the heartbeat sweep looks for silent devices. */
const SWEEP_EVERY_MS = 15_000
/** How often the embedded store reclaims what state updates leave behind (a few ms per 10,000 devices). */
const MAINTAIN_EVERY_MS = 10_000

/** Resolves when the run is over; `stop` ends it early (what Ctrl-C does). */
export async function runDev(config: Config, io: Io, stop: Promise<void>): Promise<Summary> {
  const started = Date.now()
  const tooLarge = fleetTooLarge(config.devices, config.broker === undefined, await openFileLimit())
  if (tooLarge) throw new ConfigError(tooLarge)
  io.err(config.database ? 'starting: connecting to the database' : 'starting: opening the embedded store')
  const { rules, deviceTypes } = config.rules
    ? await loadRulesDocument(config.rules)
    : { rules: defaultRules, deviceTypes: defaultDeviceTypes }
  const other = config.database ? undefined : await runningServer(config.dataDir)
  if (other) {
    // PGlite's files take one process at a time; a second would corrupt them.
    throw new ConfigError(
      `another fleetpipe dev is using ${config.dataDir} (serving it at ${other}): stop it, or pass --data-dir`,
    )
  }
  const db = await openDatabase(config.database ? { url: config.database } : { dataDir: config.dataDir })
  const cleanup: (() => Promise<unknown>)[] = [() => db.close()]
  const shutdown = async () => {
    for (const step of cleanup.reverse()) await step().catch((e) => io.err(`shutdown: ${String(e)}`))
  }
  try {
    io.err(`store   ${db.location}`)
    if (db.pglite) {
      const server = await serveEmbedded(db.pglite, { port: config.dbPort }).catch(() =>
        serveEmbedded(db.pglite as NonNullable<typeof db.pglite>, { port: 0 }),
      )
      cleanup.push(() => server.stop(), await announceServer(config.dataDir, server.url))
      io.err(`        serving it at ${server.url} (psql, Grafana, fleetpipe query)`)
    }

    let brokerUrl = config.broker
    let broker: EmbeddedBroker | undefined
    if (!brokerUrl) {
      const embedded = await startBrokerWithFallback({ port: config.brokerPort })
      broker = embedded
      cleanup.push(() => embedded.close())
      brokerUrl = embedded.url
      const note = embedded.fallback ? ` (port ${config.brokerPort} was taken)` : ''
      io.err(`broker  embedded at ${embedded.url}${note}`)
    } else {
      io.err(`broker  ${brokerUrl}`)
    }

    const openAlerts = new Set<string>()
    const bridge = await Bridge.connect({
      brokerUrl,
      clientId: config.bridgeId,
      batchSize: config.batchSize,
      flushMs: config.batchMs,
      onError: (error) => io.err(`bridge: ${error.message}`),
    })
    let route: CloudIngest | undefined
    const retraining = localRetrain(config.dataDir, logNotifier(io.err), {
      source: new PostgresDatasetSource(db.sql, { deviceTypes }),
    })
    const driftRuns = backgroundTrigger(retraining.retrain, (error) => io.err(`retrain: ${error.message}`))
    // The bridge drains its last batch through the route, so the route stops after it, and the
    // drift runs that batch may start after that.
    cleanup.push(() =>
      bridge
        .stop()
        .finally(() => route?.stop())
        .finally(() => driftRuns.stop()),
    )
    const drift = config.driftThreshold
      ? new DriftWatch(
          { state: db.state, trigger: driftRuns, clock: systemClock },
          { deviceTypes, threshold: config.driftThreshold, windowMs: config.driftWindow },
        )
      : undefined
    const pipeline = {
      rules,
      maxAgeMs: config.maxAge,
      commands: new MqttCommandPublisher(bridge.client),
      alertSinks: [new LogAlertSink(io.err), trackOpen(openAlerts)],
      models: new FolderModelSource(retraining.blobs),
      ...(drift
        ? { drift: { watch: drift, onError: (error: Error) => io.err(`drift: ${error.message}`) } }
        : {}),
    }
    route = await cloudIngest(config.cloud, db, pipeline)
    await bridge.listen(route.ingest)
    const sweeper = startSweeper(localDeps(db, pipeline), rules, SWEEP_EVERY_MS, (error) =>
      io.err(`sweep: ${error.message}`),
    )
    cleanup.push(() => sweeper.stop())
    const maintenance = setInterval(() => {
      db.maintain().catch((error: Error) => io.err(`store: ${error.message}`))
    }, MAINTAIN_EVERY_MS)
    cleanup.push(async () => clearInterval(maintenance))
    const through = config.cloud === 'local' ? '' : `, through ${CLOUD_PATHS[config.cloud]}`
    io.err(`bridge  subscribed to fleet/+/telemetry and fleet/+/status, ${rules.length} rules${through}`)
    const watcher = watchDatasets(retraining.blobs, retraining.retrain, {
      onError: (error) => io.err(`retrain: ${error.message}`),
    })
    cleanup.push(() => watcher.stop())
    io.err(`retrain drop datasets into ${retraining.blobs.root}/datasets/{deviceType}/ (NDJSON or CSV)`)
    if (drift)
      io.err(
        `        and on drift: over ${config.driftThreshold} alerts per 1,000 readings of a device type in ${formatDuration(config.driftWindow)}`,
      )

    const fleet =
      config.devices > 0
        ? await startFleet({
            brokerUrl,
            devices: config.devices,
            rateHz: config.rate,
            seed: config.seed,
            ...(config.faults ? { faults: config.faults } : {}),
            onError: (error) => io.err(`fleet: ${error.message}`),
          })
        : undefined
    io.err(
      fleet
        ? `fleet   ${config.devices} simulated devices at ${config.rate} Hz${config.faults ? `, faults ${config.faults}` : ''}`
        : 'fleet   none (--devices 0): publish to fleet/{deviceId}/telemetry yourself',
    )

    let lastReceived = 0
    const line = () => {
      const c = bridge.counts
      const rate = c.received - lastReceived
      lastReceived = c.received
      const devices = fleet ? `${fleet.stats().connected} devices · ` : ''
      return `${devices}${rate} msg/s · ${c.stored} stored · ${c.duplicates} duplicates · ${c.quarantined} quarantined · ${openAlerts.size} open alerts`
    }
    const ticker = setInterval(() => io.status?.(line()), 1_000)
    // Cleared on any stop, so a Ctrl-C before the end of `--duration` lets the process exit at once.
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      if (config.duration) timer = setTimeout(resolve, config.duration * 1_000)
    })
    await Promise.race([stop, timeout])
    clearTimeout(timer)
    clearInterval(ticker)

    io.err('stopping: flushing the fleet, the bridge and the store')
    await fleet?.stop()
    // Let the broker hand over what was published before the bridge stops listening. The embedded
    // broker first stops taking messages (any other publisher is disconnected), so that what it
    // accepted is all there is to wait for.
    await broker?.closeAllBut(config.bridgeId)
    const c = bridge.counts
    const caughtUp = broker
      ? () => c.settled >= broker.accepted()
      : () => c.received - c.statuses >= (fleet?.stats().acked ?? 0)
    await drained(bridge, caughtUp)
    const gaps = await db.queries.gaps({ since: started })
    await shutdown()
    return {
      published: fleet?.stats().published ?? 0,
      received: c.received,
      stored: c.stored,
      duplicates: c.duplicates,
      quarantined: c.quarantined,
      failed: c.failed,
      accepted: broker ? broker.accepted() : null,
      lost: (broker ? broker.accepted() : c.messages) - c.settled,
      retained: c.retained,
      gaps,
      statuses: c.statuses,
      alerts: c.alerts + sweeper.alerts,
      commands: c.commands,
      devices: config.devices,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      database: db.location,
      broker: brokerUrl,
    }
  } catch (error) {
    await shutdown()
    throw error
  }
}

/** Keeps the ids of the alerts open now, for the status line. */
function trackOpen(open: Set<string>): AlertSink {
  return {
    async publish(transitions) {
      for (const t of transitions) {
        if (t.type === 'cleared') open.delete(t.alert.id)
        else open.add(t.alert.id)
      }
    },
  }
}

/** Waits until the bridge has caught up and been quiet for a moment (bounded: what is left is lost). */
async function drained(bridge: Bridge, caughtUp: () => boolean) {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (bridge.idleFor() > 250 && caughtUp()) return
    await sleep(50)
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
