/**
 * What every infra/aws function shares: the provider namespace it is handed, the account it deploys
 * to, names, IAM policy documents, and how production protects its data.
 */
import * as pulumi from '@pulumi/pulumi'

/**
 * The `@pulumi/aws` namespace. sst.config.ts passes SST's `aws` global (the platform's copy of the
 * package, which is what runs on deploy); tests pass the npm package under Pulumi mocks.
 */
export type Aws = typeof import('@pulumi/aws')

export interface StageArgs {
  /** The app's name (`$app.name`), the first part of every physical name. */
  app: string
  stage: string
  /** Production keeps its data: see `dataProtection`. */
  production: boolean
}

/** Where the stack deploys, for the ARNs no resource hands out (IoT topics, the rule's own ARN). */
export interface AwsContext {
  partition: pulumi.Input<string>
  region: pulumi.Input<string>
  accountId: pulumi.Input<string>
}

export function awsContext(aws: Aws): AwsContext {
  return {
    partition: aws.getPartitionOutput().partition,
    region: aws.getRegionOutput().region,
    accountId: aws.getCallerIdentityOutput().accountId,
  }
}

/** `fleetpipe-dev-alerts`: readable in the console, and two stages never collide in one account. */
export function physicalName(args: Pick<StageArgs, 'app' | 'stage'>, what: string): string {
  return `${args.app}-${args.stage}-${what}`
}

/**
 * Production's stores outlive a mistaken delete or replace: `protect` makes Pulumi refuse to delete
 * them, `retainOnDelete` leaves them in the account when they leave the program. SST's
 * `removal: 'retain'` covers DynamoDB tables but neither Timestream nor SQS.
 * https://www.pulumi.com/docs/iac/concepts/options/protect/
 * https://www.pulumi.com/docs/iac/concepts/options/retainondelete/
 */
export function dataProtection(production: boolean): pulumi.CustomResourceOptions {
  return production ? { protect: true, retainOnDelete: true } : {}
}

export interface PolicyStatement {
  /** IAM only: IoT policies have no `Sid`. */
  Sid?: string
  Effect: 'Allow'
  Action: string[]
  Resource: pulumi.Input<string>[]
  Condition?: Record<string, Record<string, pulumi.Input<string>>>
}

/** An IAM policy document as the JSON IAM takes, once every ARN in it is known. */
export function policyDocument(statements: PolicyStatement[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: '2012-10-17', Statement: statements })
}
