import validator from 'asl-validator'
import { describe, expect, it } from 'vitest'
import {
  LOCAL_RESOURCES,
  RETRYABLE_ERRORS,
  retrainDefinition,
  TASKS,
  type TaskResources,
} from '../src/index.ts'

const cloud = Object.fromEntries(
  TASKS.map((task) => [task, `arn:aws:lambda:eu-west-1:123456789012:function:fleetpipe-dev-Retrain${task}`]),
) as TaskResources

describe('retrainDefinition', () => {
  it('is valid ASL, for the cloud and for the local runner', () => {
    for (const resources of [cloud, LOCAL_RESOURCES]) {
      const result = validator(retrainDefinition({ resources }))
      expect(result.errors, result.errorsText('\n')).toEqual([])
      expect(result.isValid).toBe(true)
    }
  })

  it('differs between cloud and local only in the task resources', () => {
    const strip = (definition: ReturnType<typeof retrainDefinition>) =>
      JSON.stringify(definition, (key, value) => (key === 'Resource' ? undefined : value))
    expect(strip(retrainDefinition({ resources: cloud }))).toBe(
      strip(retrainDefinition({ resources: LOCAL_RESOURCES })),
    )
  })

  it('runs Validate → Train → Evaluate → ShouldPromote → Register → Notify, each task on its own resource', () => {
    const { StartAt, States } = retrainDefinition({ resources: cloud })
    const path: string[] = []
    for (let name: string | undefined = StartAt; name; ) {
      path.push(name)
      const state = States[name] as { Next?: string; Choices?: { Next: string }[]; Type: string }
      name = state.Type === 'Choice' ? state.Choices?.[0]?.Next : state.Next
    }
    expect(path).toEqual([
      'Configure',
      'HasDataset',
      'ValidateDataset',
      'Train',
      'Evaluate',
      'ShouldPromote',
      'Register',
      'Notify',
      'Done',
    ])
    for (const task of TASKS) expect(States[task]?.Resource).toBe(cloud[task])
    expect(States.NotifyFailure?.Resource).toBe(cloud.Notify)
    expect(States.ShouldPromote?.Default).toBe('Notify')
    expect(States.HasDataset?.Default).toBe('ExportDataset')
  })

  it('retries transient task errors with backoff, and sends every other failure to NotifyFailure → Failed', () => {
    const { States } = retrainDefinition({ resources: cloud })
    for (const task of ['ExportDataset', 'ValidateDataset', 'Train', 'Evaluate', 'Register'] as const) {
      expect(States[task]?.Retry).toEqual([
        {
          ErrorEquals: RETRYABLE_ERRORS,
          IntervalSeconds: 2,
          MaxAttempts: 3,
          BackoffRate: 2,
          MaxDelaySeconds: 30,
        },
      ])
      expect(States[task]?.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NotifyFailure' },
      ])
    }
    expect(RETRYABLE_ERRORS).not.toContain('DatasetError')
    expect(States.NotifyFailure?.Next).toBe('Failed')
    expect(States.Failed).toEqual({ Type: 'Fail', Error: 'RetrainFailed', CausePath: '$.error.Cause' })
  })

  it('bakes the promotion margin and the training settings into the definition', () => {
    const { States } = retrainDefinition({
      resources: cloud,
      config: { minImprovement: 0.05, holdoutPercent: 30 },
    })
    expect(JSON.stringify(States.ShouldPromote?.Choices)).toContain('"NumericGreaterThanEquals":0.05')
    expect(States.Configure).toMatchObject({
      Type: 'Pass',
      ResultPath: '$.config',
      Result: { minImprovement: 0.05, holdoutPercent: 30 },
    })
    expect(() => retrainDefinition({ resources: cloud, config: { holdoutPercent: 95 } })).toThrow()
  })
})
