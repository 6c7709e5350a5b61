/** What `query` and `quarantine` share: reaching the database, and replaying refused messages. */
import {
  type CommandPublisher,
  type DeviceCommand,
  defaultRules,
  type InboundMessage,
  type QuarantineReason,
  rawBytes,
} from '@fleetpipe/core'
import { type Database, openDatabase } from '@fleetpipe/postgres'
import mqtt from 'mqtt'
import type { Config } from './config.ts'
import { runningServer } from './embedded-server.ts'
import { MqttCommandPublisher } from './mqtt-commands.ts'
import { localIngest } from './pipeline.ts'
import { loadRulesFile } from './rules-file.ts'

/** `--database`, else the database a running `dev` serves, else the embedded files themselves. */
export async function openForTools(config: Config): Promise<Database> {
  const url = config.database ?? (await runningServer(config.dataDir))
  return openDatabase(url ? { url } : { dataDir: config.dataDir })
}

export interface ReplayResult {
  id: number
  reason: QuarantineReason
  /** What ingest made of it now: stored, duplicate, quarantined (again, with a new entry), failed. */
  outcome: string
  detail?: string
}

const CHUNK = 500

/**
 * Feeds quarantined messages through ingest again, after a fix or a config change. Each entry is
 * marked with the outcome; one quarantined again gets a new entry with the new reason.
 */
export async function replayQuarantine(
  db: Database,
  config: Config,
  filter: { reason?: QuarantineReason; deviceId?: string; limit?: number; ids?: number[] },
  log: (line: string) => void,
): Promise<ReplayResult[]> {
  const rules = config.rules ? await loadRulesFile(config.rules) : defaultRules
  const client = config.broker ? await mqtt.connectAsync(config.broker, { connectTimeout: 5_000 }) : undefined
  const commands: CommandPublisher = client
    ? new MqttCommandPublisher(client)
    : {
        send: async (list: readonly DeviceCommand[]) => {
          for (const c of list) log(unsent(c))
        },
      }
  const ingest = localIngest(db, { rules, maxAgeMs: config.maxAge, commands })
  try {
    const entries = (await db.quarantine.list({ ...filter, limit: filter.limit ?? 1_000 })).filter(
      (e) => !filter.ids || filter.ids.includes(e.id),
    )
    const results: ReplayResult[] = []
    for (let i = 0; i < entries.length; i += CHUNK) {
      const chunk = entries.slice(i, i + CHUNK)
      const replayable = chunk.filter((e) => !e.rawTruncated)
      for (const e of chunk.filter((e) => e.rawTruncated)) {
        results.push({
          id: e.id,
          reason: e.reason,
          outcome: 'skipped',
          detail: 'only a prefix of the payload was kept',
        })
      }
      const messages: InboundMessage[] = replayable.map((e) => ({
        topic: e.topic,
        payload: rawBytes(e),
        receivedAt: Date.now(),
        source: 'replay',
      }))
      const { records } = await ingest(messages)
      const settled = replayable.map((e, index) => {
        const outcomes = records.filter((r) => r.message === index)
        const outcome = worst(outcomes.map((r) => r.outcome))
        const detail = outcomes.find((r) => r.detail)?.detail
        return { id: e.id, reason: e.reason, outcome, detail }
      })
      await db.quarantine.markReplayed(
        settled.filter((s) => s.outcome !== 'failed'),
        Date.now(),
      )
      results.push(...settled)
    }
    return results
  } finally {
    await client?.endAsync()
  }
}

/** A message's outcome is its least settled record's: failed, then quarantined, then stored. */
function worst(outcomes: string[]): string {
  for (const o of ['failed', 'quarantined', 'stored', 'duplicate']) if (outcomes.includes(o)) return o
  return 'failed'
}

function unsent(c: DeviceCommand): string {
  return `command ${c.command} for ${c.deviceId} not sent: no broker (pass --broker mqtt://… to send it)`
}
