import { getFunction, getTestServer } from '@google-cloud/functions-framework/testing'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { FUNCTION_NAME, handler, SWEEP_FUNCTION_NAME, sweepHandler } from '../src/index.ts'
import { httpRequest, pubsubEvent } from './_events.ts'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('the function entry', () => {
  it('registers `ingest` when imported, without configuration', () => {
    expect(process.env.FLEETPIPE_DATABASE_URL).toBeUndefined()
    expect(FUNCTION_NAME).toBe('ingest')
    expect(getFunction('ingest')).toBe(handler)
  })

  it('wires itself on the first event: without configuration, a 500 naming what to set, every time', async () => {
    const crash = vi.spyOn(console, 'error').mockImplementation(() => {})
    await expect(handler(pubsubEvent('message-published'))).rejects.toThrow(
      /FLEETPIPE_DATABASE_URL: must be set/,
    )

    const server = getTestServer('ingest')
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as { port: number }
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        ...httpRequest('binary-message-published'),
      })
      expect(response.status).toBe(500)
      expect(await response.text()).toMatch(/^bad function configuration\n {2}FLEETPIPE_STAGE: must be set/)
      expect(crash).toHaveBeenCalledWith(expect.stringMatching(/^ConfigError: bad function configuration/))
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('registers `sweep` as an HTTP function, answering 500 without configuration', async () => {
    expect(SWEEP_FUNCTION_NAME).toBe('sweep')
    expect(getFunction('sweep')).toBe(sweepHandler)
    const crash = vi.spyOn(console, 'error').mockImplementation(() => {})

    const server = getTestServer('sweep')
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as { port: number }
      const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST' })
      expect(response.status).toBe(500)
      expect(crash).toHaveBeenCalledWith(expect.stringMatching(/^ConfigError: bad function configuration/))
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
