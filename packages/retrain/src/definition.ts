/**
 * The retraining state machine, in Amazon States Language, generated here once for the cloud and
 * the local runner alike: infra/aws gives it the Lambda ARNs, `fleetpipe dev` gives it local names
 * its interpreter maps to the same task handlers.
 *
 *   Configure → HasDataset ─▶ ValidateDataset → Train → Evaluate → ShouldPromote ─▶ Register → Notify → Done
 *                   └ ExportDataset ┘                                       └────────────────┘
 *   any task's error, after its retries → NotifyFailure → Failed (with the task's cause)
 */
import { type RetrainConfig, type RetrainConfigInput, retrainConfig } from './config.ts'

/** The task states, each one handler (see tasks.ts). */
export const TASKS = ['ExportDataset', 'ValidateDataset', 'Train', 'Evaluate', 'Register', 'Notify'] as const
export type TaskName = (typeof TASKS)[number]

/** What a task's resource is: a Lambda function ARN in the cloud, anything the local runner maps. */
export type TaskResources = Record<TaskName, string>

/** Errors worth another attempt: the Lambda service's own, and the handlers' TransientError. */
export const RETRYABLE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'TransientError',
  'StateConflictError',
]

export interface DefinitionOptions {
  resources: TaskResources
  config?: RetrainConfigInput
  /** Per task, e.g. Train needs longer than Notify. */
  timeoutSeconds?: Partial<Record<TaskName, number>>
}

export type StateMachineDefinition = {
  Comment: string
  StartAt: string
  States: Record<string, Record<string, unknown>>
}

const DEFAULT_TIMEOUTS: Record<TaskName, number> = {
  ExportDataset: 900,
  ValidateDataset: 300,
  Train: 900,
  Evaluate: 600,
  Register: 60,
  Notify: 60,
}

export function retrainDefinition(options: DefinitionOptions): StateMachineDefinition {
  const config: RetrainConfig = retrainConfig(options.config)
  const task = (name: TaskName, resultPath: string, next: string, catchTo?: string) => ({
    Type: 'Task',
    Resource: options.resources[name],
    TimeoutSeconds: options.timeoutSeconds?.[name] ?? DEFAULT_TIMEOUTS[name],
    ResultPath: resultPath,
    Retry: [
      {
        ErrorEquals: RETRYABLE_ERRORS,
        IntervalSeconds: 2,
        MaxAttempts: 3,
        BackoffRate: 2,
        MaxDelaySeconds: 30,
      },
    ],
    ...(catchTo ? { Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: catchTo }] } : {}),
    Next: next,
  })
  const failing = 'NotifyFailure'
  return {
    Comment:
      'fleetpipe retraining: validate a dataset, train a candidate, promote it if it beats the champion',
    StartAt: 'Configure',
    States: {
      Configure: { Type: 'Pass', Result: config, ResultPath: '$.config', Next: 'HasDataset' },
      HasDataset: {
        Type: 'Choice',
        Choices: [{ Variable: '$.detail.key', IsPresent: true, Next: 'ValidateDataset' }],
        Default: 'ExportDataset',
      },
      ExportDataset: task('ExportDataset', '$.detail', 'ValidateDataset', failing),
      ValidateDataset: task('ValidateDataset', '$.dataset', 'Train', failing),
      Train: task('Train', '$.candidate', 'Evaluate', failing),
      Evaluate: task('Evaluate', '$.evaluation', 'ShouldPromote', failing),
      ShouldPromote: {
        Type: 'Choice',
        Comment: `Promote when there is no champion, or the candidate is better by ${config.minImprovement}`,
        Choices: [
          {
            Or: [
              { Variable: '$.evaluation.champion', IsPresent: false },
              { Variable: '$.evaluation.improvement', NumericGreaterThanEquals: config.minImprovement },
            ],
            Next: 'Register',
          },
        ],
        Default: 'Notify',
      },
      Register: task('Register', '$.registered', 'Notify', failing),
      // A failed notification after a promotion fails the run, but the model stays promoted.
      Notify: task('Notify', '$.notified', 'Done'),
      Done: { Type: 'Succeed' },
      NotifyFailure: {
        ...task('Notify', '$.notified', 'Failed'),
        // Failed reads the task's cause from $.error: a failing notification must not replace it.
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.notifyError', Next: 'Failed' }],
      },
      Failed: { Type: 'Fail', Error: 'RetrainFailed', CausePath: '$.error.Cause' },
    },
  }
}
