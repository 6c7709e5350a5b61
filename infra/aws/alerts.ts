/**
 * The topic alert transitions go to (one message each, see packages/aws/src/sns-alerts.ts); email,
 * chat or on-call subscriptions are added per stage, outside this program.
 */
import { type Aws, physicalName, type StageArgs } from './common.ts'

export function alertTopic(aws: Aws, args: StageArgs) {
  return new aws.sns.Topic('AlertTopic', {
    name: physicalName(args, 'alerts'),
    displayName: `fleetpipe ${args.stage} alerts`,
  })
}
