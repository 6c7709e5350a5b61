/**
 * The fleet's bucket: quarantined messages now (`quarantine/`, written by `S3Quarantine`), and the
 * datasets and models of the retraining pipeline later. Private, and kept in production.
 */
import { type Aws, dataProtection, type StageArgs } from './common.ts'

export const QUARANTINE_PREFIX = 'quarantine/'

/**
 * How long quarantined messages wait for a replay before S3 expires them: long enough to notice
 * and fix a firmware or schema problem, short enough that a noisy device does not pile up cost.
 */
export const QUARANTINE_DAYS: Record<'dev' | 'production', number> = { dev: 14, production: 90 }

export function dataBucket(aws: Aws, args: StageArgs) {
  const keep = dataProtection(args.production)
  // Bucket names are global: Pulumi adds a random suffix to this prefix (≤ 37 characters).
  const bucket = new aws.s3.Bucket(
    'DataBucket',
    { bucketPrefix: `${args.app}-${args.stage}-data-`.slice(0, 37), forceDestroy: !args.production },
    keep,
  )
  const publicAccess = new aws.s3.BucketPublicAccessBlock('DataBucketPublicAccess', {
    bucket: bucket.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  })
  const lifecycle = new aws.s3.BucketLifecycleConfiguration('DataBucketLifecycle', {
    bucket: bucket.id,
    rules: [
      {
        id: 'expire-quarantine',
        status: 'Enabled',
        filter: { prefix: QUARANTINE_PREFIX },
        expiration: { days: QUARANTINE_DAYS[args.production ? 'production' : 'dev'] },
      },
    ],
  })
  return { bucket, publicAccess, lifecycle }
}
