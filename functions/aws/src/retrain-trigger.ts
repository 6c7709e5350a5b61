/**
 * The retraining trigger: an EventBridge rule sends it S3's `Object Created` events for the fleet's
 * `datasets/` and the ingest's `RetrainRequested` events; it validates them and starts the state
 * machine through the PipelineTrigger port. A dataset's run is named from bucket, key and S3's
 * sequencer, which orders the writes of one key: a duplicated event starts one execution, a new
 * drop of the key (a new sequencer) another.
 *
 * An event it refuses is logged and answered, not thrown: EventBridge would retry a failed
 * invocation, and an event that is wrong stays wrong.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
 */
import { DEVICE_TYPE_PATTERN, type PipelineRun, type PipelineTrigger } from '@fleetpipe/core'
import { DATASETS_PREFIX, deviceTypeOfKey, formatOf } from '@fleetpipe/retrain'
import * as z from 'zod/mini'

const ObjectCreatedSchema = z.object({
  source: z.literal('aws.s3'),
  'detail-type': z.literal('Object Created'),
  detail: z.object({
    bucket: z.object({ name: z.string().check(z.minLength(1)) }),
    object: z.object({
      key: z.string().check(z.minLength(1)),
      size: z.int().check(z.minimum(0)),
      etag: z.optional(z.string()),
      'version-id': z.optional(z.string()),
      sequencer: z.string().check(z.minLength(1)),
    }),
  }),
})

const RetrainRequestedSchema = z.object({
  source: z.literal('fleetpipe'),
  'detail-type': z.literal('RetrainRequested'),
  detail: z.object({
    idempotencyKey: z.string().check(z.minLength(1), z.maxLength(1024)),
    reason: z.enum(['dataset', 'drift', 'manual']),
    detail: z.record(z.string(), z.unknown()),
  }),
})

export type TriggerResult = { started: true; idempotencyKey: string } | { started: false; reason: string }

export interface TriggerOptions {
  /** Events for another bucket are refused (the rule names this one; this is a second lock). */
  bucket: string
  /** Objects larger than this are refused before a run starts (bytes). */
  maxDatasetBytes?: number
  log?: (entry: Record<string, unknown>) => void
}

/** Decodes an event into the run it asks for, or says why there is none. */
export function runOfEvent(event: unknown, options: TriggerOptions): PipelineRun | { refused: string } {
  const source = (event as { source?: unknown } | null)?.source
  if (source === 'fleetpipe') {
    const parsed = RetrainRequestedSchema.safeParse(event)
    if (!parsed.success) return { refused: `not a RetrainRequested event: ${issue(parsed.error)}` }
    const deviceType = parsed.data.detail.detail.deviceType
    if (typeof deviceType !== 'string' || !DEVICE_TYPE_PATTERN.test(deviceType))
      return { refused: 'RetrainRequested names no valid detail.deviceType' }
    return parsed.data.detail
  }
  const parsed = ObjectCreatedSchema.safeParse(event)
  if (!parsed.success) return { refused: `not an S3 Object Created event: ${issue(parsed.error)}` }
  const { bucket, object } = parsed.data.detail
  if (bucket.name !== options.bucket) return { refused: `bucket ${bucket.name} is not ${options.bucket}` }
  if (!object.key.startsWith(DATASETS_PREFIX))
    return { refused: `${object.key} is not under ${DATASETS_PREFIX}` }
  const deviceType = deviceTypeOfKey(object.key)
  if (!deviceType) return { refused: `${object.key}: put datasets under ${DATASETS_PREFIX}{deviceType}/` }
  if (!formatOf(object.key)) return { refused: `${object.key}: not a dataset (.ndjson, .jsonl or .csv)` }
  if (object.size === 0) return { refused: `${object.key} is empty` }
  const max = options.maxDatasetBytes ?? 1024 * 1024 * 1024
  if (object.size > max) return { refused: `${object.key} is ${object.size} bytes, more than ${max}` }
  return {
    idempotencyKey: `${bucket.name}/${object.key}:${object.sequencer}`,
    reason: 'dataset',
    detail: {
      bucket: bucket.name,
      key: object.key,
      deviceType,
      size: object.size,
      sequencer: object.sequencer,
      ...(object.etag ? { etag: object.etag } : {}),
      ...(object['version-id'] ? { versionId: object['version-id'] } : {}),
    },
  }
}

export type RetrainTriggerHandler = (event: unknown) => Promise<TriggerResult>

export function createRetrainTriggerHandler(
  pipeline: PipelineTrigger,
  options: TriggerOptions,
): RetrainTriggerHandler {
  const log = options.log ?? ((entry) => console.log(JSON.stringify(entry)))
  return async (event) => {
    const run = runOfEvent(event, options)
    if ('refused' in run) {
      log({ level: 'WARN', message: 'retraining not started', reason: run.refused })
      return { started: false, reason: run.refused }
    }
    await pipeline.start(run)
    log({
      level: 'INFO',
      message: 'retraining started',
      idempotencyKey: run.idempotencyKey,
      reason: run.reason,
    })
    return { started: true, idempotencyKey: run.idempotencyKey }
  }
}

function issue(error: z.core.$ZodError): string {
  const first = error.issues[0]
  return `${first?.path.join('.') || '(event)'}: ${first?.message ?? 'invalid'}`
}
