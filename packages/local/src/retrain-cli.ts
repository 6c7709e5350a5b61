/** `fleetpipe retrain` and `fleetpipe models`: the local retraining pipeline from the command line. */
import { ConfigError, DEVICE_TYPE_PATTERN } from '@fleetpipe/core'
import { listModels } from '@fleetpipe/retrain'
import type { Config } from './config.ts'
import { formatTable } from './format.ts'
import { localRetrain, logNotifier, retrainFromFile } from './retrain.ts'

export const retrainFlags = {
  dataset: { type: 'string' },
  type: { type: 'string' },
} as const

export interface RetrainValues {
  dataset?: string | boolean
  type?: string | boolean
}

const log = (line: string) => process.stderr.write(`${line}\n`)

/** `retrain --dataset FILE --type T`: copies the file into the bucket's datasets/ and runs the pipeline. */
export async function retrainCommand(config: Config, values: RetrainValues): Promise<number> {
  const { retrain, blobs } = localRetrain(config.dataDir, logNotifier(log))
  if (typeof values.dataset !== 'string') {
    // Without a dataset: the executions so far.
    const rows = (await retrain.executions()).map((e) => ({
      name: e.name,
      status: e.status,
      key: String(e.input.detail.key ?? e.input.reason),
      startedAt: new Date(e.startedAt).toISOString(),
      seconds: e.stoppedAt === undefined ? '' : (e.stoppedAt - e.startedAt) / 1000,
      cause: e.cause ?? '',
    }))
    print(config, rows)
    return 0
  }
  const type = values.type
  if (typeof type !== 'string' || !DEVICE_TYPE_PATTERN.test(type))
    throw new ConfigError(
      'retrain --dataset FILE needs --type DEVICE_TYPE ([a-z][a-z0-9-]{0,31}, e.g. motor)',
    )
  const record = await retrainFromFile(retrain, blobs, values.dataset, type)
  const states = record.history.filter((e) => e.type === 'StateEntered').map((e) => e.state)
  if (config.json) console.log(JSON.stringify(record))
  else {
    console.log(`${record.name} ${record.status}: ${states.join(' → ')}`)
    if (record.cause) console.log(`cause: ${record.cause}`)
  }
  return record.status === 'SUCCEEDED' ? 0 : 1
}

/** `models [--type T]`: every registered version, the champion of each type marked. */
export async function modelsCommand(config: Config, values: RetrainValues): Promise<number> {
  const { blobs } = localRetrain(config.dataDir, logNotifier(log))
  const models = await listModels(blobs, typeof values.type === 'string' ? values.type : undefined)
  if (config.json) console.log(JSON.stringify(models))
  else
    print(
      config,
      models.map((m) => {
        const holdout = m.evaluation?.holdout as
          | { f1?: number; precision?: number; recall?: number }
          | undefined
        return {
          deviceType: m.deviceType,
          version: m.version,
          champion: m.champion ? '*' : '',
          trainedAt: new Date(m.trainedAt).toISOString(),
          threshold: m.threshold,
          metrics: m.metrics.join(' '),
          f1: holdout?.f1 ?? '',
          precision: holdout?.precision ?? '',
          recall: holdout?.recall ?? '',
        }
      }),
    )
  return 0
}

function print(config: Config, rows: object[]) {
  if (config.json) console.log(JSON.stringify(rows))
  else console.log(rows.length ? formatTable(rows) : '(nothing)')
}
