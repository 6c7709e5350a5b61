/** The retraining functions' configuration: FLEETPIPE_* variables through one zod schema, read once. */
import { ConfigError } from '@fleetpipe/core'
import * as z from 'zod/mini'

const name = z.string({ error: 'must be set' }).check(z.trim(), z.minLength(1, 'must be set'))

export const RetrainEnvSchema = z.object({
  FLEETPIPE_STAGE: name,
  /** The fleet's bucket: datasets, models, run scratch. */
  FLEETPIPE_DATA_BUCKET: name,
  /** Where run outcomes are published (the task functions' Notify). */
  FLEETPIPE_RETRAIN_TOPIC_ARN: z.optional(
    name.check(z.regex(/^arn:aws[a-z-]*:sns:/, 'must be an SNS topic ARN')),
  ),
  /** The machine the trigger starts. */
  FLEETPIPE_STATE_MACHINE_ARN: z.optional(
    name.check(z.regex(/^arn:aws[a-z-]*:states:/, 'must be a Step Functions state machine ARN')),
  ),
})

export interface RetrainAwsConfig {
  stage: string
  bucket: string
  topicArn?: string
  stateMachineArn?: string
}

export function loadRetrainConfig(
  env: Record<string, string | undefined>,
  needs: ('topicArn' | 'stateMachineArn')[] = [],
): RetrainAwsConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  const parsed = RetrainEnvSchema.safeParse(present)
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
  const vars = parsed.success ? parsed.data : undefined
  if (vars && needs.includes('topicArn') && !vars.FLEETPIPE_RETRAIN_TOPIC_ARN)
    problems.push('FLEETPIPE_RETRAIN_TOPIC_ARN: must be set')
  if (vars && needs.includes('stateMachineArn') && !vars.FLEETPIPE_STATE_MACHINE_ARN)
    problems.push('FLEETPIPE_STATE_MACHINE_ARN: must be set')
  if (!vars || problems.length > 0)
    throw new ConfigError(`bad Lambda configuration\n  ${problems.join('\n  ')}`)
  return {
    stage: vars.FLEETPIPE_STAGE,
    bucket: vars.FLEETPIPE_DATA_BUCKET,
    topicArn: vars.FLEETPIPE_RETRAIN_TOPIC_ARN,
    stateMachineArn: vars.FLEETPIPE_STATE_MACHINE_ARN,
  }
}
