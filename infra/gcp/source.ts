/**
 * Where the function's code is uploaded for Cloud Build: a private bucket of the stage (or one the
 * caller names) and the archive `buildGcpSource` made, as one object.
 */
import * as pulumi from '@pulumi/pulumi'
import { type Gcp, labels, physicalName, type StageArgs } from './common.ts'

export interface FunctionCode {
  /** The folder `buildGcpSource` wrote, as an archive: `new pulumi.asset.FileArchive(dir)`. */
  archive: pulumi.asset.Archive
  /** An existing bucket to upload to; without it, the stage gets a bucket of its own. */
  bucket?: pulumi.Input<string>
}

export function functionSource(
  gcp: Gcp,
  args: StageArgs & { region: string; projectId: pulumi.Input<string>; code: FunctionCode },
) {
  const bucket = args.code.bucket === undefined ? sourceBucket(gcp, args) : undefined
  const object = new gcp.storage.BucketObject(
    'FunctionSource',
    {
      bucket: bucket?.name ?? args.code.bucket ?? '',
      name: `${physicalName(args, 'ingest')}.zip`,
      source: args.code.archive,
      contentType: 'application/zip',
    },
    // New code replaces the object under the same name: the old one goes first, or deleting it
    // after the new one was written would delete the new one.
    { deleteBeforeReplace: true },
  )
  return { bucket, object }
}

export type FunctionSource = ReturnType<typeof functionSource>

function sourceBucket(gcp: Gcp, args: StageArgs & { region: string; projectId: pulumi.Input<string> }) {
  return new gcp.storage.Bucket('SourceBucket', {
    // Bucket names are global: the project id in front keeps this one to the project.
    name: pulumi.interpolate`${args.projectId}-${physicalName(args, 'source')}`,
    location: args.region,
    uniformBucketLevelAccess: true,
    publicAccessPrevention: 'enforced',
    // Only build input lives here.
    forceDestroy: true,
    labels: labels(args),
  })
}
