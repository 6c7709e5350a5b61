import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge'
import { ExecutionAlreadyExists, InvalidArn, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn'
import { type PipelineRun, TransientError } from '@fleetpipe/core'
import { mockClient } from 'aws-sdk-client-mock'
import { describe, expect, it } from 'vitest'
import { EventBridgeTrigger, executionName, StepFunctionsTrigger } from '../src/index.ts'
import { noWait } from './_fixtures.ts'

const stateMachineArn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:retrain'

const run: PipelineRun = {
  // As a dataset drop names it: bucket, key and S3's sequencer, with characters names may not hold.
  idempotencyKey: 'fleetpipe-datasets/motors/2026-11-23/readings.csv:0065A1B2C3D4E5F601',
  reason: 'dataset',
  detail: { bucket: 'fleetpipe-datasets', key: 'motors/2026-11-23/readings.csv', size: 1_048_576 },
}

describe('StepFunctionsTrigger', () => {
  it('starts an execution named from the idempotency key: the same key, the same valid name', async () => {
    const sfn = new SFNClient({ region: 'eu-west-1' })
    const mock = mockClient(sfn)
    mock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date() })
    const trigger = new StepFunctionsTrigger(sfn, { stateMachineArn, retry: noWait })

    await trigger.start(run)
    await trigger.start({ ...run })

    const inputs = mock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)
    expect(inputs).toHaveLength(2)
    const [first, second] = inputs
    expect(first).toEqual({ stateMachineArn, name: expect.any(String), input: JSON.stringify(run) })
    expect(JSON.parse(first?.input as string)).toEqual(run)
    expect(second?.name).toBe(first?.name)
    expect(first?.name).toMatch(/^[A-Za-z0-9_-]{1,80}$/)
    expect(first?.name).toBe(executionName(run.idempotencyKey))
    expect(executionName('another key')).not.toBe(first?.name)
    expect(executionName('x'.repeat(10_000))).toMatch(/^[A-Za-z0-9_-]{1,80}$/)
  })

  it('takes ExecutionAlreadyExists as success: the run was started before', async () => {
    const sfn = new SFNClient({ region: 'eu-west-1' })
    const mock = mockClient(sfn)
    mock
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }))

    await expect(new StepFunctionsTrigger(sfn, { stateMachineArn }).start(run)).resolves.toBeUndefined()
    expect(mock.commandCalls(StartExecutionCommand)).toHaveLength(1)
  })

  it('throws other errors', async () => {
    const sfn = new SFNClient({ region: 'eu-west-1' })
    const mock = mockClient(sfn)
    mock.on(StartExecutionCommand).rejects(new InvalidArn({ message: 'Invalid Arn', $metadata: {} }))

    await expect(new StepFunctionsTrigger(sfn, { stateMachineArn }).start(run)).rejects.toBeInstanceOf(
      InvalidArn,
    )
  })
})

describe('EventBridgeTrigger', () => {
  it('puts one RetrainRequested event from fleetpipe on the bus, the run as detail', async () => {
    const events = new EventBridgeClient({ region: 'eu-west-1' })
    const mock = mockClient(events)
    mock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] })

    await new EventBridgeTrigger(events, { eventBusName: 'fleetpipe' }).start(run)

    const inputs = mock.commandCalls(PutEventsCommand).map((c) => c.args[0].input)
    expect(inputs).toEqual([
      {
        Entries: [
          {
            Source: 'fleetpipe',
            DetailType: 'RetrainRequested',
            EventBusName: 'fleetpipe',
            Detail: JSON.stringify(run),
          },
        ],
      },
    ])
    expect(JSON.parse(inputs[0]?.Entries?.[0]?.Detail as string)).toEqual(run)
  })

  it('takes source and detail type from its options', async () => {
    const events = new EventBridgeClient({ region: 'eu-west-1' })
    const mock = mockClient(events)
    mock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] })

    await new EventBridgeTrigger(events, {
      eventBusName: 'default',
      source: 'fleetpipe.drift',
      detailType: 'DriftDetected',
    }).start({ ...run, reason: 'drift' })

    expect(mock.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]).toMatchObject({
      Source: 'fleetpipe.drift',
      DetailType: 'DriftDetected',
      EventBusName: 'default',
    })
  })

  it('retries a failed entry, and throws a TransientError when it keeps failing', async () => {
    const events = new EventBridgeClient({ region: 'eu-west-1' })
    const mock = mockClient(events)
    const failed = {
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service error' }],
    }
    const trigger = new EventBridgeTrigger(events, {
      eventBusName: 'fleetpipe',
      retry: { ...noWait, attempts: 3 },
    })

    mock
      .on(PutEventsCommand)
      .resolvesOnce(failed)
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] })
    await trigger.start(run)
    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(2)

    mock.reset()
    mock.on(PutEventsCommand).resolves(failed)
    const error = await trigger.start(run).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransientError)
    expect((error as Error).message).toMatch(/InternalFailure/)
    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(3)
  })
})
