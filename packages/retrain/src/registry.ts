/**
 * The model registry in the bucket: immutable artifacts `models/{type}/{version}.json` and one
 * pointer per type, `models/{type}/current.json`, naming the champion. Promotion writes the
 * artifact first and the pointer last, so a reader that sees a pointer always finds its artifact;
 * readers (the ingest's ModelSource) poll the pointer, which is small, and fetch an artifact once.
 */
import { type Model, ModelError, parseModel } from '@fleetpipe/core'
import * as z from 'zod/mini'
import { type BlobStore, getText, MODELS_PREFIX, modelKey, pointerKey } from './blob.ts'

export const POINTER_FORMAT = 'fleetpipe.model-pointer/1'

export const PointerSchema = z.object({
  format: z.literal(POINTER_FORMAT),
  deviceType: z.string(),
  version: z.string(),
  /** The artifact's key in the same bucket. */
  key: z.string(),
  promotedAt: z.int(),
  /** The champion it replaced, for a rollback by hand. */
  previous: z.optional(z.string()),
})

export type Pointer = z.infer<typeof PointerSchema>

export function parsePointer(text: string): Pointer {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new ModelError(`model pointer is not JSON: ${(error as Error).message}`)
  }
  const parsed = PointerSchema.safeParse(value)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  throw new ModelError(`invalid model pointer — ${issue?.path.join('.') || '(root)'}: ${issue?.message}`)
}

export function parseModelText(text: string): Model {
  try {
    return parseModel(JSON.parse(text))
  } catch (error) {
    if (error instanceof ModelError) throw error
    throw new ModelError(`model is not JSON: ${(error as Error).message}`)
  }
}

export async function readPointer(blobs: BlobStore, deviceType: string): Promise<Pointer | undefined> {
  const text = await getText(blobs, pointerKey(deviceType))
  return text === undefined ? undefined : parsePointer(text)
}

/** The champion of a device type, or undefined before its first promotion. */
export async function currentModel(blobs: BlobStore, deviceType: string): Promise<Model | undefined> {
  const pointer = await readPointer(blobs, deviceType)
  if (!pointer) return undefined
  const text = await getText(blobs, pointer.key)
  if (text === undefined) throw new ModelError(`the pointer names ${pointer.key}, which is not there`)
  return parseModelText(text)
}

/** Registers `model` and makes it the champion: artifact first, pointer last. */
export async function promote(blobs: BlobStore, model: Model, now: number): Promise<Pointer> {
  const previous = await readPointer(blobs, model.deviceType).catch(() => undefined)
  const key = modelKey(model.deviceType, model.version)
  await blobs.put(key, `${JSON.stringify(model, null, 2)}\n`, { contentType: 'application/json' })
  const pointer: Pointer = {
    format: POINTER_FORMAT,
    deviceType: model.deviceType,
    version: model.version,
    key,
    promotedAt: now,
    ...(previous ? { previous: previous.version } : {}),
  }
  await blobs.put(pointerKey(model.deviceType), `${JSON.stringify(pointer, null, 2)}\n`, {
    contentType: 'application/json',
  })
  return pointer
}

export interface ModelListing {
  deviceType: string
  version: string
  trainedAt: number
  threshold: number
  metrics: string[]
  champion: boolean
  evaluation?: Record<string, unknown>
}

/** Every registered model, by device type and version; the champion of each type marked. */
export async function listModels(blobs: BlobStore, deviceType?: string): Promise<ModelListing[]> {
  const objects = await blobs.list(deviceType ? `${MODELS_PREFIX}${deviceType}/` : MODELS_PREFIX)
  const champions = new Map<string, string>()
  const out: ModelListing[] = []
  for (const object of objects) {
    const text = await getText(blobs, object.key)
    if (text === undefined) continue
    if (object.key.endsWith('/current.json')) {
      const pointer = parsePointer(text)
      champions.set(pointer.deviceType, pointer.version)
      continue
    }
    const model = parseModelText(text)
    out.push({
      deviceType: model.deviceType,
      version: model.version,
      trainedAt: model.trainedAt,
      threshold: model.threshold,
      metrics: model.metrics,
      champion: false,
      ...(model.evaluation ? { evaluation: model.evaluation } : {}),
    })
  }
  for (const listing of out) listing.champion = champions.get(listing.deviceType) === listing.version
  return out
}
