import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import type { BlobInfo, BlobStore } from '@fleetpipe/retrain'
import { errorName, type RetryPolicy, withRetry } from './_transient.ts'

export interface S3BlobStoreOptions {
  bucket: string
  retry?: RetryPolicy
}

/**
 * The retraining pipeline's bucket: datasets streamed from GetObject (never read whole, so a
 * Lambda trains on a dataset larger than its memory), models and pointers written with PutObject.
 */
export class S3BlobStore implements BlobStore {
  constructor(
    private readonly s3: S3Client,
    private readonly options: S3BlobStoreOptions,
  ) {}

  async get(key: string) {
    const command = new GetObjectCommand({ Bucket: this.options.bucket, Key: key })
    try {
      const response = await withRetry(`S3 GetObject ${key}`, () => this.s3.send(command), this.options.retry)
      if (!response.Body) throw new Error(`S3 GetObject ${key}: no body`)
      return {
        key,
        size: response.ContentLength ?? 0,
        etag: response.ETag ?? '',
        lastModified: response.LastModified?.getTime() ?? 0,
        // In Node the SDK's body is an IncomingMessage: an async iterable of Buffers.
        body: response.Body as AsyncIterable<Uint8Array>,
      }
    } catch (error) {
      if (errorName(error) === 'NoSuchKey') return undefined
      throw error
    }
  }

  async put(key: string, body: string, options: { contentType?: string } = {}): Promise<void> {
    const command = new PutObjectCommand({
      Bucket: this.options.bucket,
      Key: key,
      Body: body,
      ContentType: options.contentType ?? 'application/octet-stream',
    })
    await withRetry(`S3 PutObject ${key}`, () => this.s3.send(command), this.options.retry)
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    const found: BlobInfo[] = []
    let token: string | undefined
    do {
      const command = new ListObjectsV2Command({
        Bucket: this.options.bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      })
      const page: ListObjectsV2CommandOutput = await withRetry(
        `S3 ListObjectsV2 ${prefix}`,
        () => this.s3.send(command),
        this.options.retry,
      )
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue
        found.push({
          key: object.Key,
          size: object.Size ?? 0,
          etag: object.ETag ?? '',
          lastModified: object.LastModified?.getTime() ?? 0,
        })
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    return found
  }
}
