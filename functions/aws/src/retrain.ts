/**
 * The retraining functions, one Lambda each (sst.config.ts): `trigger` starts the state machine
 * from an EventBridge event; the task functions run one state each, calling the same handlers the
 * local runner calls. A task's throw is the state's error: Lambda reports `error.name` as the
 * `errorType` Step Functions' Retry and Catch match (DatasetError fails at once, TransientError is
 * retried). Wired from the environment on the first invocation; tests use the factories.
 */
import { S3Client } from '@aws-sdk/client-s3'
import { SFNClient } from '@aws-sdk/client-sfn'
import { SNSClient } from '@aws-sdk/client-sns'
import { S3BlobStore, SnsRetrainNotifier, StepFunctionsTrigger } from '@fleetpipe/aws'
import { systemClock } from '@fleetpipe/core'
import { TASK_HANDLERS, type TaskDeps, type TaskName } from '@fleetpipe/retrain'
import { loadRetrainConfig } from './retrain-config.ts'
import { createRetrainTriggerHandler, type RetrainTriggerHandler } from './retrain-trigger.ts'

export { loadRetrainConfig, type RetrainAwsConfig, RetrainEnvSchema } from './retrain-config.ts'
export {
  createRetrainTriggerHandler,
  type RetrainTriggerHandler,
  runOfEvent,
  type TriggerOptions,
  type TriggerResult,
} from './retrain-trigger.ts'

/** A Lambda handler for one task state: the state's input in, its result out. */
export function createRetrainTaskHandler(
  task: TaskName,
  deps: TaskDeps,
): (event: unknown) => Promise<unknown> {
  const handler = TASK_HANDLERS[task]
  return (event) => handler(event, deps)
}

let taskDeps: TaskDeps | undefined
function wiredTaskDeps(): TaskDeps {
  if (!taskDeps) {
    const config = loadRetrainConfig(process.env, ['topicArn'])
    taskDeps = {
      blobs: new S3BlobStore(new S3Client({}), { bucket: config.bucket }),
      notifier: new SnsRetrainNotifier(new SNSClient({}), { topicArn: config.topicArn as string }),
      clock: systemClock,
    }
  }
  return taskDeps
}

const task =
  (name: TaskName) =>
  (event: unknown): Promise<unknown> =>
    TASK_HANDLERS[name](event, wiredTaskDeps())

export const exportDataset = task('ExportDataset')
export const validateDataset = task('ValidateDataset')
export const train = task('Train')
export const evaluate = task('Evaluate')
export const register = task('Register')
export const notify = task('Notify')

let triggerHandler: RetrainTriggerHandler | undefined
export const trigger: RetrainTriggerHandler = (event) => {
  if (!triggerHandler) {
    const config = loadRetrainConfig(process.env, ['stateMachineArn'])
    const pipeline = new StepFunctionsTrigger(new SFNClient({}), {
      stateMachineArn: config.stateMachineArn as string,
    })
    triggerHandler = createRetrainTriggerHandler(pipeline, { bucket: config.bucket })
  }
  return triggerHandler(event)
}
