/**
 * Where datasets, models and run scratch live: a bucket (S3) or a folder (local). The task handlers
 * only see this port, so the same code trains in a Lambda and in `fleetpipe dev`.
 *
 * Layout, one bucket per fleet:
 * - `datasets/{deviceType}/…{.ndjson|.jsonl|.csv}` — dropped by people (each drop starts a run)
 * - `models/{deviceType}/{version}.json` — registered models, immutable
 * - `models/{deviceType}/current.json` — the champion pointer, the only object that changes
 * - `runs/{runId}/…` — one execution's scratch (a drift run's exported dataset, the trained
 *   candidate), safe to expire
 */
import { DEVICE_TYPE_PATTERN } from '@fleetpipe/core'

export interface BlobInfo {
  key: string
  size: number
  /** Changes whenever the content does; S3's ETag, or size and mtime for a folder. */
  etag: string
  lastModified: number
}

export interface BlobStore {
  /** The object's content as a stream of chunks, or undefined when there is none. */
  get(key: string): Promise<(BlobInfo & { body: AsyncIterable<Uint8Array> }) | undefined>
  put(key: string, body: string, options?: { contentType?: string }): Promise<void>
  /** Objects whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<BlobInfo[]>
}

export const DATASETS_PREFIX = 'datasets/'
export const MODELS_PREFIX = 'models/'
export const RUNS_PREFIX = 'runs/'

export const modelKey = (deviceType: string, version: string) =>
  `${MODELS_PREFIX}${deviceType}/${version}.json`
export const pointerKey = (deviceType: string) => `${MODELS_PREFIX}${deviceType}/current.json`
export const candidateKey = (runId: string) => `${RUNS_PREFIX}${runId}/candidate.json`

/**
 * The device type a dataset key names (`datasets/{deviceType}/…`), or undefined when the key is not
 * under a device type's folder.
 */
export function deviceTypeOfKey(key: string): string | undefined {
  if (!key.startsWith(DATASETS_PREFIX)) return undefined
  const [type, ...rest] = key.slice(DATASETS_PREFIX.length).split('/')
  if (!type || rest.length === 0 || !DEVICE_TYPE_PATTERN.test(type)) return undefined
  return type
}

/** The whole object as text; undefined when there is none. For small objects: models, pointers. */
export async function getText(blobs: BlobStore, key: string): Promise<string | undefined> {
  const object = await blobs.get(key)
  if (!object) return undefined
  const chunks: Uint8Array[] = []
  for await (const chunk of object.body) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

/** In memory: for tests, and for tools that need no persistence. */
export class MemoryBlobStore implements BlobStore {
  readonly objects = new Map<string, { body: string; lastModified: number; etag: string }>()
  #puts = 0

  async get(key: string) {
    const object = this.objects.get(key)
    if (!object) return undefined
    const bytes = Buffer.from(object.body)
    return {
      key,
      size: bytes.length,
      etag: object.etag,
      lastModified: object.lastModified,
      body: (async function* () {
        yield bytes
      })(),
    }
  }

  async put(key: string, body: string): Promise<void> {
    this.objects.set(key, { body, lastModified: Date.now(), etag: `"${++this.#puts}"` })
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, o]) => ({
        key,
        size: Buffer.byteLength(o.body),
        etag: o.etag,
        lastModified: o.lastModified,
      }))
  }
}
