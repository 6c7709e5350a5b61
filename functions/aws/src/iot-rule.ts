/** IoT rule → Lambda (async invoke, one message per invocation) → ingest. */
import { type IngestCounts, type IngestDeps, ingest, TransientError } from '@fleetpipe/core'
import type { Context } from 'aws-lambda'
import { type HandlerOptions, observers, report, reportForeign, startInvocation } from './_report.ts'
import { fromRuleEvent } from './_utils.ts'

export type IotRuleHandler = (event: unknown, context?: Context) => Promise<IngestCounts>

/**
 * A handler for the rule's Lambda action. A transient failure throws: the rules engine has already
 * had its 202 from the async invoke, so it is Lambda that retries (twice by default) and then hands
 * the event to the function's on-failure destination or DLQ. The rule's error action only covers a
 * failed invoke. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 *
 * @example
 * export const handler = createIotRuleHandler(deps, { stage: 'dev', rules })
 */
export function createIotRuleHandler(deps: IngestDeps, options: HandlerOptions): IotRuleHandler {
  const obs = observers(options)
  return async (event, context) => {
    startInvocation(obs, context)
    const { message, problem } = fromRuleEvent(event, deps.clock.now())
    if (problem) reportForeign(obs, problem)
    const result = await ingest([message], deps, options)
    report(obs, result, () => ({ topic: message.topic }))
    const failed = result.records.filter((r) => r.outcome === 'failed')
    if (failed.length > 0) {
      throw new TransientError(`${failed.length} record(s) failed: ${failed[0]?.detail ?? 'unknown error'}`)
    }
    return result.counts
  }
}
