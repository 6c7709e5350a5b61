/**
 * What every infra/gcp function shares: the provider namespace it is handed, the project it deploys
 * to, names, labels, and how production protects its data.
 */
import { createHash } from 'node:crypto'
import type * as pulumi from '@pulumi/pulumi'

/**
 * The `@pulumi/gcp` namespace. sst.config.ts passes SST's `gcp` global (the platform's copy of the
 * package, which is what runs on deploy); tests pass the npm package under Pulumi mocks.
 */
export type Gcp = typeof import('@pulumi/gcp')

export interface StageArgs {
  /** The app's name (`$app.name`), the first part of every physical name. */
  app: string
  stage: string
  /** Production keeps its data: see `dataProtection`. */
  production: boolean
}

/** Where the stack deploys: the provider's project, and the region every regional resource uses. */
export interface GcpContext {
  projectId: pulumi.Output<string>
  /** For the service agents' addresses, which use the number, not the id. */
  projectNumber: pulumi.Output<string>
  region: string
}

/** The provider's own project (its `project` setting), looked up once per program. */
export function gcpContext(gcp: Gcp, region: string): GcpContext {
  const project = gcp.organizations.getProjectOutput({})
  const projectId = project.apply(({ projectId }) => {
    if (!projectId) throw new Error('the gcp provider has no project: set `gcp:project` (or GOOGLE_PROJECT)')
    return projectId
  })
  return { projectId, projectNumber: project.number, region }
}

/** `fleetpipe-dev-alerts`: readable in the console, and two stages never collide in one project. */
export function physicalName(args: Pick<StageArgs, 'app' | 'stage'>, what: string): string {
  return `${args.app}-${args.stage}-${what}`
}

/**
 * A service account id: 6–30 characters of `[a-z0-9-]`, starting with a letter. A long app or stage
 * name is cut and given a hash of the full name, so two stages still get two accounts.
 * https://cloud.google.com/iam/docs/service-accounts-create
 */
export function serviceAccountId(args: Pick<StageArgs, 'app' | 'stage'>, what: string): string {
  const full = physicalName(args, what)
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
  if (full.length <= 30) return full
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 6)
  return `${full.slice(0, 23).replace(/-+$/, '')}-${hash}`
}

/**
 * On every resource that takes labels, so billing reports split the cost by app and stage. Label
 * values allow `[a-z0-9_-]` only. https://cloud.google.com/resource-manager/docs/labels-overview
 */
export function labels(args: Pick<StageArgs, 'app' | 'stage'>): Record<string, string> {
  const value = (text: string) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '_')
      .slice(0, 63)
  return { app: value(args.app), stage: value(args.stage) }
}

/**
 * Production's data outlives a mistaken delete or replace: `protect` makes Pulumi refuse to delete
 * it, `retainOnDelete` leaves it in the project when it leaves the program.
 * https://www.pulumi.com/docs/iac/concepts/options/protect/
 * https://www.pulumi.com/docs/iac/concepts/options/retainondelete/
 */
export function dataProtection(production: boolean): pulumi.CustomResourceOptions {
  return production ? { protect: true, retainOnDelete: true } : {}
}

/** A duration as Pub/Sub's API takes it (`600s`). */
export function seconds(value: number): string {
  return `${value}s`
}

export const DAY_SECONDS = 24 * 60 * 60
