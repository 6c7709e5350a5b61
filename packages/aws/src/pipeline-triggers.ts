import { createHash } from 'node:crypto'
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge'
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn'
import { type PipelineRun, type PipelineTrigger, TransientError } from '@fleetpipe/core'
import { errorName, type RetryPolicy, withRetry } from './_transient.ts'

export interface StepFunctionsTriggerOptions {
  stateMachineArn: string
  retry?: RetryPolicy
}

export interface EventBridgeTriggerOptions {
  eventBusName: string
  /** `fleetpipe` unless told. */
  source?: string
  /** `RetrainRequested` unless told. */
  detailType?: string
  retry?: RetryPolicy
}

/**
 * The execution name for an idempotency key: the same key always gives the same name, and any key
 * gives a valid one (names are 1-80 characters of `[A-Za-z0-9-_]`).
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
export function executionName(idempotencyKey: string): string {
  return `fp-${createHash('sha256').update(idempotencyKey).digest('hex')}`.slice(0, 80)
}

/**
 * Starts a Step Functions execution named after the run's idempotency key, so a repeated trigger
 * starts it once: a Standard workflow answers a second start of one name (for 90 days) with the
 * running execution, or with ExecutionAlreadyExists, and either means the run is started. Express
 * workflows do not dedupe by name.
 */
export class StepFunctionsTrigger implements PipelineTrigger {
  constructor(
    private readonly sfn: SFNClient,
    private readonly options: StepFunctionsTriggerOptions,
  ) {}

  async start(run: PipelineRun): Promise<void> {
    const command = new StartExecutionCommand({
      stateMachineArn: this.options.stateMachineArn,
      name: executionName(run.idempotencyKey),
      input: JSON.stringify(run),
    })
    try {
      await withRetry(
        `StartExecution ${run.idempotencyKey}`,
        () => this.sfn.send(command),
        this.options.retry,
      )
    } catch (error) {
      if (errorName(error) !== 'ExecutionAlreadyExists') throw error
    }
  }
}

/**
 * Puts a run on an EventBridge bus for whatever rule starts the pipeline. EventBridge does not
 * dedupe, so a repeated trigger delivers the event again: its target keys on `idempotencyKey`.
 */
export class EventBridgeTrigger implements PipelineTrigger {
  constructor(
    private readonly events: EventBridgeClient,
    private readonly options: EventBridgeTriggerOptions,
  ) {}

  async start(run: PipelineRun): Promise<void> {
    const command = new PutEventsCommand({
      Entries: [
        {
          Source: this.options.source ?? 'fleetpipe',
          DetailType: this.options.detailType ?? 'RetrainRequested',
          EventBusName: this.options.eventBusName,
          Detail: JSON.stringify(run),
        },
      ],
    })
    await withRetry(
      `PutEvents ${run.idempotencyKey}`,
      async () => {
        // PutEvents answers 200 and reports a failed entry inside; AWS's advice is to send it again.
        // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html#eb-failure-handling
        const response = await this.events.send(command)
        if ((response.FailedEntryCount ?? 0) > 0) {
          const entry = response.Entries?.[0]
          throw new TransientError(
            `PutEvents failed for ${run.idempotencyKey}: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim(),
          )
        }
      },
      this.options.retry,
    )
  }
}
