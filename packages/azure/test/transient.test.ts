import { TransientError } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { isTransient } from '../src/_transient.ts'
import { iotHubError, restError } from './_fixtures.ts'

describe('isTransient', () => {
  it.each([408, 429, 500, 502, 503, 504])('retries HTTP %i', (status) => {
    expect(isTransient(restError(status))).toBe(true)
  })

  it.each([
    'ThrottlingError',
    'InternalServerError',
    'ServiceUnavailableError',
    'TimeoutError',
    'NotConnectedError',
  ])('retries azure-iothub %s', (name) => {
    expect(isTransient(iotHubError(name))).toBe(true)
  })

  it('retries requests that got no answer, and our own TransientError', () => {
    for (const code of ['REQUEST_SEND_ERROR', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']) {
      expect(isTransient(Object.assign(new Error('socket'), { code }))).toBe(true)
    }
    expect(isTransient(new TransientError('left unprocessed'))).toBe(true)
  })

  it('does not retry refusals or non-errors', () => {
    for (const status of [400, 401, 403, 404, 413]) expect(isTransient(restError(status))).toBe(false)
    for (const name of ['DeviceNotFoundError', 'DeviceMaximumQueueDepthExceededError', 'UnauthorizedError']) {
      expect(isTransient(iotHubError(name))).toBe(false)
    }
    expect(isTransient(Object.assign(new Error('no such host'), { code: 'ENOTFOUND' }))).toBe(false)
    expect(isTransient('ThrottlingError')).toBe(false)
    expect(isTransient(undefined)).toBe(false)
  })
})
