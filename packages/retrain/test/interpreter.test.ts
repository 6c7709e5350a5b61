import { describe, expect, it } from 'vitest'
import { AslError, execute, type HistoryEvent } from '../src/index.ts'

const retry = {
  ErrorEquals: ['Flaky'],
  IntervalSeconds: 2,
  MaxAttempts: 3,
  BackoffRate: 2,
  MaxDelaySeconds: 5,
}

class Flaky extends Error {
  override name = 'Flaky'
}

function machine(task: (input: unknown) => Promise<unknown>) {
  const definition = {
    StartAt: 'Setup',
    States: {
      Setup: { Type: 'Pass', Result: { margin: 0.1 }, ResultPath: '$.config', Next: 'Work' },
      Work: {
        Type: 'Task',
        Resource: 'arn:work',
        ResultPath: '$.result',
        Retry: [retry],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
        Next: 'Decide',
      },
      Decide: {
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: '$.result.score', NumericGreaterThanEquals: 0.5 },
              { Not: { Variable: '$.result.label', StringEquals: 'skip' } },
            ],
            Next: 'Good',
          },
        ],
        Default: 'Bad',
      },
      Good: { Type: 'Succeed' },
      Bad: { Type: 'Fail', Error: 'TooLow', Cause: 'score below 0.5' },
      Failed: { Type: 'Fail', Error: 'WorkFailed', CausePath: '$.error.Cause' },
    },
  }
  const waits: number[] = []
  const events: HistoryEvent[] = []
  const run = (input: unknown) =>
    execute(definition, input, {
      resources: { 'arn:work': task },
      sleep: async (ms) => {
        waits.push(ms)
      },
      onEvent: (event) => events.push(event),
    })
  return { run, waits, events }
}

describe('execute', () => {
  it('passes each result on at its ResultPath and follows the choice', async () => {
    const inputs: unknown[] = []
    const { run, events } = machine(async (input) => {
      inputs.push(input)
      return { score: 0.7, label: 'ok' }
    })
    expect(await run({ id: 'a' })).toEqual({
      status: 'SUCCEEDED',
      output: { id: 'a', config: { margin: 0.1 }, result: { score: 0.7, label: 'ok' } },
    })
    expect(inputs).toEqual([{ id: 'a', config: { margin: 0.1 } }])
    expect(events.filter((e) => e.type === 'StateEntered').map((e) => e.state)).toEqual([
      'Setup',
      'Work',
      'Decide',
      'Good',
    ])
  })

  it('takes the default branch, and fails with the Fail state’s error and cause', async () => {
    expect(await machine(async () => ({ score: 0.7, label: 'skip' })).run({})).toEqual({
      status: 'FAILED',
      error: 'TooLow',
      cause: 'score below 0.5',
    })
  })

  it('retries a matching error with exponential backoff, capped by MaxDelaySeconds', async () => {
    let calls = 0
    const { run, waits } = machine(async () => {
      calls++
      if (calls < 4) throw new Flaky('try again')
      return { score: 1 }
    })
    expect((await run({})).status).toBe('SUCCEEDED')
    expect(calls).toBe(4)
    expect(waits).toEqual([2_000, 4_000, 5_000])
  })

  it('catches an error after the retries, with Lambda’s cause, and fails with it through CausePath', async () => {
    let calls = 0
    const { run, waits } = machine(async () => {
      calls++
      throw new Flaky('still down')
    })
    const cause = JSON.stringify({ errorType: 'Flaky', errorMessage: 'still down' })
    expect(await run({})).toEqual({ status: 'FAILED', error: 'WorkFailed', cause })
    expect(calls).toBe(4)
    expect(waits).toHaveLength(3)
  })

  it('does not retry an error no retrier names', async () => {
    let calls = 0
    const { run, waits } = machine(async () => {
      calls++
      throw new TypeError('bad input')
    })
    expect(await run({})).toMatchObject({
      status: 'FAILED',
      cause: JSON.stringify({ errorType: 'TypeError', errorMessage: 'bad input' }),
    })
    expect(calls).toBe(1)
    expect(waits).toEqual([])
  })

  it('refuses what it does not implement rather than guessing', async () => {
    await expect(
      execute({ StartAt: 'M', States: { M: { Type: 'Map', End: true } } }, {}, { resources: {} }),
    ).rejects.toThrow(AslError)
    await expect(
      execute(
        { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:none', End: true } } },
        {},
        { resources: {} },
      ),
    ).rejects.toThrow(/no handler for resource arn:none/)
    await expect(
      execute(
        { StartAt: 'P', States: { P: { Type: 'Pass', Result: 1, ResultPath: '$.a[0]', End: true } } },
        {},
        { resources: {} },
      ),
    ).rejects.toThrow(/only \$\.a\.b paths/)
  })

  it('times a task out after TimeoutSeconds with States.Timeout', async () => {
    const definition = {
      StartAt: 'Slow',
      States: {
        Slow: {
          Type: 'Task',
          Resource: 'arn:slow',
          TimeoutSeconds: 0.05,
          Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'Timed' }],
          End: true,
        },
        Timed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
      },
    }
    const never = () => new Promise<never>(() => {})
    expect(await execute(definition, {}, { resources: { 'arn:slow': never } })).toEqual({
      status: 'FAILED',
      error: 'States.Timeout',
      cause: 'the task ran longer than 0.05 s',
    })
  })
})
