import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3'
import type { Model, ModelSource } from '@fleetpipe/core'
import { modelKey, parseModelText, parsePointer, pointerKey } from '@fleetpipe/retrain'
import { errorName, type RetryPolicy, withRetry } from './_transient.ts'

export interface S3ModelSourceOptions {
  bucket: string
  /** How long a champion is used before the pointer is asked again (60 s unless told). */
  ttlMs?: number
  retry?: RetryPolicy
  now?: () => number
}

interface Cached {
  model: Model | undefined
  /** The pointer's ETag, for the conditional GET; undefined while the type has no pointer. */
  etag: string | undefined
  checkedAt: number
}

/**
 * Champion models from the bucket the retraining pipeline registers them in. Each device type's
 * pointer (`models/{type}/current.json`) is asked again at most once per TTL, with `If-None-Match`
 * on its ETag: an unchanged pointer costs a 304 and no body. A changed one names a version, whose
 * immutable artifact is fetched once — so a promotion reaches a warm Lambda within the TTL,
 * without a redeploy. A failed refresh keeps the model it has (scoring goes on) and asks again later.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax
 */
export class S3ModelSource implements ModelSource {
  readonly #cache = new Map<string, Cached>()
  readonly #refreshing = new Map<string, Promise<Model | undefined>>()

  constructor(
    private readonly s3: S3Client,
    private readonly options: S3ModelSourceOptions,
  ) {}

  async current(deviceType: string): Promise<Model | undefined> {
    const now = (this.options.now ?? Date.now)()
    const cached = this.#cache.get(deviceType)
    if (cached && now - cached.checkedAt < (this.options.ttlMs ?? 60_000)) return cached.model
    // One refresh per type at a time: a batch of many devices of one type asks once.
    let refresh = this.#refreshing.get(deviceType)
    if (!refresh) {
      refresh = this.#refresh(deviceType, cached, now).finally(() => this.#refreshing.delete(deviceType))
      this.#refreshing.set(deviceType, refresh)
    }
    return refresh
  }

  async #refresh(deviceType: string, cached: Cached | undefined, now: number): Promise<Model | undefined> {
    const key = pointerKey(deviceType)
    const command = new GetObjectCommand({
      Bucket: this.options.bucket,
      Key: key,
      ...(cached?.etag ? { IfNoneMatch: cached.etag } : {}),
    })
    let response: GetObjectCommandOutput
    try {
      response = await withRetry(`S3 GetObject ${key}`, () => this.s3.send(command), this.options.retry)
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
      if (status === 304 || errorName(error) === 'NotModified') {
        this.#cache.set(deviceType, { ...(cached as Cached), checkedAt: now })
        return cached?.model
      }
      if (errorName(error) === 'NoSuchKey') {
        this.#cache.set(deviceType, { model: undefined, etag: undefined, checkedAt: now })
        return undefined
      }
      if (cached) {
        // Keep scoring with the model we have; ask again after the TTL.
        this.#cache.set(deviceType, { ...cached, checkedAt: now })
        return cached.model
      }
      throw error
    }
    const pointer = parsePointer((await response.Body?.transformToString()) ?? '')
    let model = cached?.model
    if (model?.version !== pointer.version) {
      const artifact = new GetObjectCommand({
        Bucket: this.options.bucket,
        Key: modelKey(deviceType, pointer.version),
      })
      const body = await withRetry(
        `S3 GetObject ${artifact.input.Key}`,
        () => this.s3.send(artifact),
        this.options.retry,
      )
      model = parseModelText((await body.Body?.transformToString()) ?? '')
    }
    this.#cache.set(deviceType, { model, etag: response.ETag, checkedAt: now })
    return model
  }
}
