import { describe, expect, it } from 'vitest'
import { fleetTooLarge, openFileLimit } from '../src/open-files.ts'

describe('an in-process fleet and the open-file limit', () => {
  it('counts two sockets a device with the embedded broker, one with an external broker', () => {
    expect(fleetTooLarge(9_000, true, 20_000)).toBeUndefined()
    expect(fleetTooLarge(10_000, true, 20_000)).toBe(
      "--devices 10000 needs about 20256 open files in this process (a socket a device, and the embedded broker's end of each), and it may open 20000 (ulimit -n): raise that limit, or run the fleet in a process of its own with fleetpipe sim",
    )
    expect(fleetTooLarge(10_000, false, 20_000)).toBeUndefined()
    expect(fleetTooLarge(19_900, false, 20_000)).toMatch(
      /^--devices 19900 needs about 20156 open files .*\(a socket a device\)/,
    )
  })

  it('lets any fleet through where the limit is unknown, and no fleet needs nothing', () => {
    expect(fleetTooLarge(1_000_000, true, undefined)).toBeUndefined()
    expect(fleetTooLarge(0, true, 10)).toBeUndefined()
  })

  it('reads the limit where the platform tells it', async () => {
    const limit = await openFileLimit()
    if (process.platform === 'linux') expect(limit).toBeGreaterThan(0)
    else expect(limit).toBeUndefined()
  })
})
