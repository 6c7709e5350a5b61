/**
 * A small interpreter for the subset of Amazon States Language the retraining definition uses, so
 * `fleetpipe dev` runs the very definition the cloud runs. It stands in for aws-local-stepfunctions,
 * which this project cannot install; it is not a general ASL engine, and refuses what it does not know.
 *
 * Supported: Task (Resource mapped to a handler; TimeoutSeconds, Retry with IntervalSeconds,
 * MaxAttempts, BackoffRate and MaxDelaySeconds; Catch; ResultPath), Pass (Result, ResultPath),
 * Choice (Variable with IsPresent, BooleanEquals, StringEquals, NumericEquals,
 * NumericGreaterThan(Equals), NumericLessThan(Equals); And, Or, Not; Default), Succeed, Fail
 * (Error/Cause or ErrorPath/CausePath). Paths are plain `$.a.b` references.
 * Semantics follow https://states-language.net/spec.html: a task's error is matched by name, then
 * `States.TaskFailed`, then `States.ALL`; a Catch's output is the state's input with
 * `{Error, Cause}` at its ResultPath.
 */
import { AslError } from './errors.ts'

export type Resource = (input: unknown) => Promise<unknown>

export interface InterpreterOptions {
  /** The handler for each Task's `Resource`. */
  resources: Record<string, Resource>
  /** Retry waits; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>
  /** Each state entered and left, for the execution's history. */
  onEvent?: (event: HistoryEvent) => void
  now?: () => number
}

export interface HistoryEvent {
  type: 'StateEntered' | 'StateExited' | 'TaskFailed' | 'TaskRetried'
  state: string
  at: number
  error?: string
  cause?: string
  attempt?: number
}

export type Execution =
  | { status: 'SUCCEEDED'; output: unknown }
  | { status: 'FAILED'; error: string; cause: string }

type Json = Record<string, unknown>

/** A task's failure as the definition sees it: a name to match, a cause to report. */
export class TaskFailedError extends Error {
  override name = 'TaskFailedError'
  constructor(
    readonly error: string,
    /** Step Functions' `Cause` (not Error's `cause`, which holds an error object). */
    readonly detail: string,
  ) {
    super(`${error}: ${detail}`)
  }
}

const MAX_TRANSITIONS = 1_000

export async function execute(
  definition: { StartAt: string; States: Record<string, Json> },
  input: unknown,
  options: InterpreterOptions,
): Promise<Execution> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const now = options.now ?? Date.now
  const emit = (event: Omit<HistoryEvent, 'at'>) => options.onEvent?.({ ...event, at: now() })
  let name = definition.StartAt
  let data = structuredClone(input)
  for (let transitions = 0; transitions < MAX_TRANSITIONS; transitions++) {
    const state = definition.States[name]
    if (!state) throw new AslError(`no state named ${name}`)
    emit({ type: 'StateEntered', state: name })
    switch (state.Type) {
      case 'Pass':
        data =
          state.Result === undefined ? data : setPath(data, state.ResultPath, structuredClone(state.Result))
        break
      case 'Task': {
        const outcome = await runTask(name, state, data, options, sleep, emit)
        if (outcome.caught) {
          emit({ type: 'StateExited', state: name })
          data = setPath(data, outcome.caught.ResultPath, { Error: outcome.error, Cause: outcome.cause })
          name = outcome.caught.Next as string
          continue
        }
        if ('error' in outcome) return { status: 'FAILED', error: outcome.error, cause: outcome.cause }
        data = setPath(data, state.ResultPath, outcome.result)
        break
      }
      case 'Choice': {
        emit({ type: 'StateExited', state: name })
        const choices = (state.Choices as Json[] | undefined) ?? []
        const chosen = choices.find((rule) => matches(rule, data))
        const next = (chosen?.Next ?? state.Default) as string | undefined
        if (!next)
          return { status: 'FAILED', error: 'States.NoChoiceMatched', cause: `no choice of ${name} matched` }
        name = next
        continue
      }
      case 'Succeed':
        emit({ type: 'StateExited', state: name })
        return { status: 'SUCCEEDED', output: data }
      case 'Fail': {
        emit({ type: 'StateExited', state: name })
        const error = state.ErrorPath
          ? String(getPath(data, state.ErrorPath as string))
          : String(state.Error ?? '')
        const cause = state.CausePath
          ? String(getPath(data, state.CausePath as string) ?? '')
          : String(state.Cause ?? '')
        return { status: 'FAILED', error, cause }
      }
      default:
        throw new AslError(
          `state ${name}: type ${String(state.Type)} is not supported by the local interpreter`,
        )
    }
    emit({ type: 'StateExited', state: name })
    if (state.End === true) return { status: 'SUCCEEDED', output: data }
    name = state.Next as string
  }
  throw new AslError(`more than ${MAX_TRANSITIONS} transitions: a loop?`)
}

type TaskOutcome = { result: unknown; caught?: undefined } | { error: string; cause: string; caught?: Json }

async function runTask(
  name: string,
  state: Json,
  input: unknown,
  options: InterpreterOptions,
  sleep: (ms: number) => Promise<void>,
  emit: (event: Omit<HistoryEvent, 'at'>) => void,
): Promise<TaskOutcome> {
  const resource = options.resources[state.Resource as string]
  if (!resource) throw new AslError(`state ${name}: no handler for resource ${String(state.Resource)}`)
  const retriers = ((state.Retry as Json[] | undefined) ?? []).map((retrier) => ({ retrier, attempts: 0 }))
  for (let attempt = 1; ; attempt++) {
    let failure: { error: string; cause: string }
    try {
      return {
        result: await withTimeout(
          resource(structuredClone(input)),
          state.TimeoutSeconds as number | undefined,
        ),
      }
    } catch (error) {
      failure = asFailure(error)
    }
    emit({ type: 'TaskFailed', state: name, error: failure.error, cause: failure.cause, attempt })
    const retry = retriers.find(({ retrier }) => errorMatches(retrier.ErrorEquals, failure.error))
    const maxAttempts = (retry?.retrier.MaxAttempts as number | undefined) ?? 3
    if (retry && retry.attempts < maxAttempts) {
      const interval = (retry.retrier.IntervalSeconds as number | undefined) ?? 1
      const backoff = (retry.retrier.BackoffRate as number | undefined) ?? 2
      const cap = (retry.retrier.MaxDelaySeconds as number | undefined) ?? Number.POSITIVE_INFINITY
      const delay = Math.min(cap, interval * backoff ** retry.attempts)
      retry.attempts++
      emit({ type: 'TaskRetried', state: name, attempt: attempt + 1 })
      await sleep(delay * 1_000)
      continue
    }
    const caught = ((state.Catch as Json[] | undefined) ?? []).find((catcher) =>
      errorMatches(catcher.ErrorEquals, failure.error),
    )
    return { ...failure, ...(caught ? { caught } : {}) }
  }
}

/** Errors as Lambda reports a handler's throw: the name to match, and `{errorType, errorMessage}` as cause. */
function asFailure(error: unknown): { error: string; cause: string } {
  if (error instanceof TaskFailedError) return { error: error.error, cause: error.detail }
  const e = error instanceof Error ? error : new Error(String(error))
  return { error: e.name, cause: JSON.stringify({ errorType: e.name, errorMessage: e.message }) }
}

function errorMatches(names: unknown, error: string): boolean {
  const list = Array.isArray(names) ? (names as string[]) : []
  return (
    list.includes(error) ||
    list.includes('States.ALL') ||
    (list.includes('States.TaskFailed') && error !== 'States.Timeout')
  )
}

async function withTimeout<T>(promise: Promise<T>, seconds: number | undefined): Promise<T> {
  if (!seconds) return promise
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TaskFailedError('States.Timeout', `the task ran longer than ${seconds} s`)),
      seconds * 1_000,
    )
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function matches(rule: Json, data: unknown): boolean {
  if (Array.isArray(rule.And)) return (rule.And as Json[]).every((r) => matches(r, data))
  if (Array.isArray(rule.Or)) return (rule.Or as Json[]).some((r) => matches(r, data))
  if (rule.Not) return !matches(rule.Not as Json, data)
  const value = getPath(data, rule.Variable as string)
  if ('IsPresent' in rule) return (value !== undefined) === rule.IsPresent
  if (value === undefined) return false
  if ('BooleanEquals' in rule) return value === rule.BooleanEquals
  if ('StringEquals' in rule) return value === rule.StringEquals
  if (typeof value !== 'number') return false
  if ('NumericEquals' in rule) return value === rule.NumericEquals
  if ('NumericGreaterThan' in rule) return value > (rule.NumericGreaterThan as number)
  if ('NumericGreaterThanEquals' in rule) return value >= (rule.NumericGreaterThanEquals as number)
  if ('NumericLessThan' in rule) return value < (rule.NumericLessThan as number)
  if ('NumericLessThanEquals' in rule) return value <= (rule.NumericLessThanEquals as number)
  throw new AslError(`choice rule not supported by the local interpreter: ${JSON.stringify(rule)}`)
}

function segments(path: string): string[] {
  if (path === '$') return []
  if (!/^\$(\.[A-Za-z0-9_]+)+$/.test(path)) throw new AslError(`path ${path}: only $.a.b paths are supported`)
  return path.slice(2).split('.')
}

function getPath(data: unknown, path: string): unknown {
  let at: unknown = data
  for (const key of segments(path)) {
    if (typeof at !== 'object' || at === null) return undefined
    at = (at as Json)[key]
  }
  return at
}

/** ResultPath: `$` replaces the input, `null` discards the result, `$.a.b` sets a field. */
function setPath(data: unknown, path: unknown, value: unknown): unknown {
  if (path === null) return data
  if (path === undefined || path === '$') return value
  const keys = segments(path as string)
  const root = (typeof data === 'object' && data !== null ? data : {}) as Json
  let at = root
  for (const key of keys.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = {}
    at = at[key] as Json
  }
  at[keys.at(-1) as string] = value
  return root
}
