/**
 * fleetpipe's AWS Lambda handlers. `handler` (IoT rule → SQS → Lambda, the default path) and
 * `iotRuleHandler` (the rule's Lambda action) are wired from the environment on their first
 * invocation, so importing this module needs no environment; tests use the factories.
 */
import type { Context, SQSEvent } from 'aws-lambda'
import { depsFromEnv } from './deps.ts'
import { createIotRuleHandler, type IotRuleHandler } from './iot-rule.ts'
import { createSqsHandler, type SqsHandler } from './sqs.ts'
import { createSweepHandler, type SweepHandler } from './sweep.ts'

export type { HandlerOptions } from './_report.ts'
export { type AwsConfig, EnvSchema, loadConfig } from './config.ts'
export { depsFromEnv } from './deps.ts'
export { type Publish, quietLogger, sqsEventOf } from './emulate.ts'
export { createIotRuleHandler, type IotRuleHandler } from './iot-rule.ts'
export {
  type IotRuleEvent,
  IotRuleEventSchema,
  NO_CLIENT_ID,
  projectRuleEvent,
  RULE_SQL,
  RULE_SQL_VERSION,
} from './rule-sql.ts'
export { createSqsHandler, type SqsHandler } from './sqs.ts'
export { createSweepHandler, type SweepHandler } from './sweep.ts'

let wired: ReturnType<typeof depsFromEnv> | undefined
const wiring = () => {
  wired ??= depsFromEnv(process.env)
  return wired
}

let sqs: SqsHandler | undefined
let iotRule: IotRuleHandler | undefined

export const handler: SqsHandler = async (event: SQSEvent, context?: Context) => {
  sqs ??= createSqsHandler(wiring().deps, wiring().options)
  return sqs(event, context)
}

export const iotRuleHandler: IotRuleHandler = async (event: unknown, context?: Context) => {
  iotRule ??= createIotRuleHandler(wiring().deps, wiring().options)
  return iotRule(event, context)
}

let sweeper: SweepHandler | undefined

/** The scheduled heartbeat sweep (EventBridge Scheduler, once a minute). */
export const sweepHandler: SweepHandler = async (event: unknown, context?: Context) => {
  sweeper ??= createSweepHandler(wiring().deps, wiring().options)
  return sweeper(event, context)
}
