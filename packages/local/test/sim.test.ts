import { ConfigError } from '@fleetpipe/core'
import type { FleetStats } from '@fleetpipe/firmware-sim'
import { describe, expect, it } from 'vitest'
import { loadSimConfig, profileOf, simFlags, statusLine } from '../src/sim.ts'

const BROKER = 'mqtt://127.0.0.1:1883'

describe('loadSimConfig', () => {
  it('takes flags over FLEETPIPE_* variables over defaults', () => {
    const config = loadSimConfig(
      { broker: BROKER, devices: '50' },
      { FLEETPIPE_DEVICES: '7', FLEETPIPE_RATE: '4', FLEETPIPE_PROFILE: 'local' },
    )
    expect(config).toMatchObject({
      broker: BROKER,
      profile: 'local',
      devices: 50,
      rate: 4,
      seed: 1,
      idPrefix: 'esp32-',
      json: false,
    })
    expect(config.duration).toBeUndefined()
    expect(loadSimConfig({}, { FLEETPIPE_BROKER: BROKER, FLEETPIPE_JSON: '1' })).toMatchObject({ json: true })
  })

  it('names each bad setting with its flag and variable', () => {
    const bad = () => loadSimConfig({ devices: '0', rate: 'fast', profile: 'gcp' }, {})
    expect(bad).toThrow(ConfigError)
    expect(bad).toThrow(/--broker \(FLEETPIPE_BROKER\): required/)
    expect(bad).toThrow(/--devices \(FLEETPIPE_DEVICES\)/)
    expect(bad).toThrow(/--rate \(FLEETPIPE_RATE\)/)
    expect(bad).toThrow(/--profile \(FLEETPIPE_PROFILE\)/)
  })

  it('takes a fault spec, and names the bad part of one before anything connects', () => {
    expect(loadSimConfig({ broker: BROKER }, {}).faults).toBeUndefined()
    const spec = 'spike:0.01,dropout:0.001@esp32-00*'
    expect(loadSimConfig({ broker: BROKER, faults: spec }, {}).faults).toBe(spec)
    expect(loadSimConfig({ broker: BROKER }, { FLEETPIPE_FAULTS: 'stuck:0.5' }).faults).toBe('stuck:0.5')
    const bad = () => loadSimConfig({ broker: BROKER, faults: 'spike:0.01,spike:2' }, {})
    expect(bad).toThrow(ConfigError)
    expect(bad).toThrow(/--faults \(FLEETPIPE_FAULTS\): fault "spike:2": probability must be/)
    expect(() => loadSimConfig({ broker: BROKER, faults: 'gremlins:0.1' }, {})).toThrow(
      /--faults \(FLEETPIPE_FAULTS\): fault "gremlins:0.1": kind "gremlins" is unknown/,
    )
  })

  it('knows --faults as a string flag', () => {
    expect(simFlags().faults).toEqual({ type: 'string' })
  })
})

describe('profileOf', () => {
  it('builds the profile the configuration names, with its credentials', () => {
    expect(profileOf(loadSimConfig({ broker: BROKER }, {})).name).toBe('local')
    const azure = profileOf(
      loadSimConfig(
        { broker: 'mqtts://myhub.azure-devices.net', profile: 'azure' },
        { FLEETPIPE_DEVICE_KEY: Buffer.from('k'.repeat(32)).toString('base64') },
      ),
    )
    expect(azure.endpoint('esp32-0001').options.username).toBe(
      'myhub.azure-devices.net/esp32-0001/?api-version=2021-04-12',
    )
  })

  it('says which credential a cloud profile lacks', () => {
    const aws = loadSimConfig({ broker: 'mqtts://abc-ats.iot.eu-west-1.amazonaws.com', profile: 'aws' }, {})
    expect(() => profileOf(aws)).toThrow(/the aws profile needs --cert FILE/)
    const azure = loadSimConfig({ broker: 'mqtts://myhub.azure-devices.net', profile: 'azure' }, {})
    expect(() => profileOf(azure)).toThrow(/--device-key/)
  })
})

describe('statusLine', () => {
  const stats = (published: number, acked: number, failed: number): FleetStats => ({
    devices: 10,
    connected: 9,
    published,
    acked,
    failed,
    dropped: 0,
    commands: 0,
    ignoredCommands: 0,
    episodes: 0,
    ackLatencyMs: { p50: null, p99: null },
  })

  it('shows the last second and the progress of a timed run', () => {
    expect(statusLine(stats(30, 28, 1), stats(20, 19, 0), 3.2, 60)).toBe(
      '9/10 connected · 10 published/s · 9 acked/s · 1 failed/s · 3/60 s',
    )
    expect(statusLine(stats(30, 28, 1), stats(20, 19, 0), 3.2)).not.toContain('/60 s')
  })
})
