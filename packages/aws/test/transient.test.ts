import { TransientError } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { isTransient, withRetry } from '../src/_transient.ts'
import { noWait } from './_fixtures.ts'

const named = (name: string, status?: number) =>
  Object.assign(new Error(name), { name, $metadata: status === undefined ? {} : { httpStatusCode: status } })

describe('isTransient', () => {
  it.each([
    'ThrottlingException',
    'ThrottledException',
    'TooManyRequestsException',
    'ProvisionedThroughputExceededException',
    'RequestLimitExceeded',
    'InternalServerException',
    'InternalServerError',
    'ServiceUnavailable',
    'TimeoutError',
    'RequestTimeout',
  ])('retries %s', (name) => {
    expect(isTransient(named(name, 400))).toBe(true)
  })

  it('retries any 5xx, dropped connections and our own TransientError', () => {
    expect(isTransient(named('InternalFailureException', 500))).toBe(true)
    expect(isTransient(named('SomethingNew', 503))).toBe(true)
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'EPIPE']) {
      expect(isTransient(Object.assign(new Error('socket'), { code }))).toBe(true)
    }
    expect(isTransient(new TransientError('left unprocessed'))).toBe(true)
  })

  it('does not retry client errors or non-errors', () => {
    expect(isTransient(named('ValidationException', 400))).toBe(false)
    expect(isTransient(named('ConditionalCheckFailedException', 400))).toBe(false)
    expect(isTransient(named('RejectedRecordsException', 419))).toBe(false)
    expect(isTransient(Object.assign(new Error('refused'), { code: 'ENOTFOUND' }))).toBe(false)
    expect(isTransient('ThrottlingException')).toBe(false)
    expect(isTransient(undefined)).toBe(false)
  })
})

describe('withRetry', () => {
  it('gives up after the attempts with a TransientError whose cause is the last failure', async () => {
    let calls = 0
    const last = named('ThrottlingException', 400)
    const error = await withRetry(
      'Thing',
      async () => {
        calls++
        throw last
      },
      { ...noWait, attempts: 3 },
    ).catch((e: unknown) => e)

    expect(calls).toBe(3)
    expect(error).toBeInstanceOf(TransientError)
    expect((error as TransientError).cause).toBe(last)
    expect((error as Error).message).toBe(
      'Thing failed after 3 attempts: ThrottlingException: ThrottlingException',
    )
  })

  it('throws a non-transient error at once, as it is', async () => {
    let calls = 0
    const denied = named('AccessDeniedException', 403)
    await expect(
      withRetry(
        'Thing',
        async () => {
          calls++
          throw denied
        },
        noWait,
      ),
    ).rejects.toBe(denied)
    expect(calls).toBe(1)
  })
})
