import { createHash } from 'node:crypto'
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import type { Quarantine, QuarantineEntry } from '@fleetpipe/core'
import { errorName, type RetryPolicy, withRetry } from './_transient.ts'

export interface S3QuarantineOptions {
  bucket: string
  /** Key prefix, ending in `/`. */
  prefix?: string
  retry?: RetryPolicy
}

/**
 * Quarantine as NDJSON objects in S3, one object per `put` (one per invocation), under
 * `{prefix}dt=YYYY-MM-DD/hour=HH/{sha256}.ndjson` by the first entry's receive time: partitions
 * Athena or `aws s3 cp` can read back for replay, and a lifecycle rule can expire.
 *
 * The key is the content's hash and the write is conditional (`If-None-Match: *`), so a
 * redelivered batch that quarantines the same entries lands on the same key and is a no-op
 * rather than a second copy. https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 */
export class S3Quarantine implements Quarantine {
  private readonly prefix: string

  constructor(
    private readonly s3: S3Client,
    private readonly options: S3QuarantineOptions,
  ) {
    this.prefix = options.prefix ?? 'quarantine/'
  }

  async put(entries: readonly QuarantineEntry[]): Promise<void> {
    const first = entries[0]
    if (!first) return
    const body = `${entries.map((entry) => JSON.stringify(entry)).join('\n')}\n`
    const key = `${this.prefix}${partition(first.receivedAt)}/${createHash('sha256').update(body).digest('hex')}.ndjson`
    const put = new PutObjectCommand({
      Bucket: this.options.bucket,
      Key: key,
      Body: body,
      ContentType: 'application/x-ndjson',
      IfNoneMatch: '*',
    })
    try {
      await withRetry(`S3 PutObject ${key}`, () => this.s3.send(put), this.options.retry)
    } catch (error) {
      // 412: this very content is already there, from an earlier delivery of the batch.
      if (errorName(error) === 'PreconditionFailed') return
      throw error
    }
  }
}

function partition(epochMs: number): string {
  const iso = new Date(epochMs).toISOString()
  return `dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`
}
