import type { AlertTransition } from '@fleetpipe/core'
import { TransientError } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { type AlertCloudEvent, type CloudEventSender, EventGridAlertSink } from '../src/index.ts'
import { NOW, noWait, overheatAndCool, restError } from './_fixtures.ts'

/** Records each `send` call's events; fails the first calls with the given errors. */
class RecordingSender implements CloudEventSender {
  readonly calls: AlertCloudEvent[][] = []
  constructor(private readonly failures: unknown[] = []) {}
  async send(events: AlertCloudEvent[]): Promise<void> {
    this.calls.push(events)
    const failure = this.failures.shift()
    if (failure) throw failure
  }
}

describe('EventGridAlertSink', () => {
  it('sends one CloudEvent per transition, with a type per transition and a deterministic id', async () => {
    const sender = new RecordingSender()
    const [opened, cleared] = overheatAndCool('esp32-0001') as [AlertTransition, AlertTransition]

    await new EventGridAlertSink(sender, { stage: 'prod', retry: noWait }).publish([opened, cleared])

    expect(sender.calls).toEqual([
      [
        {
          type: 'fleetpipe.alert.opened',
          source: '/fleetpipe/prod/devices/esp32-0001',
          subject: 'esp32-0001/over-temperature',
          id: `esp32-0001:over-temperature:${NOW}:opened:${NOW}`,
          time: new Date(NOW),
          datacontenttype: 'application/json',
          data: opened,
        },
        {
          type: 'fleetpipe.alert.cleared',
          source: '/fleetpipe/prod/devices/esp32-0001',
          subject: 'esp32-0001/over-temperature',
          id: `esp32-0001:over-temperature:${NOW}:cleared:${NOW + 60_000}`,
          time: new Date(NOW + 60_000),
          datacontenttype: 'application/json',
          data: cleared,
        },
      ],
    ])
    expect(opened.command).toMatchObject({ command: 'safe-mode', deviceId: 'esp32-0001' })
  })

  it('gives a repeated transition the same id, and a different transition another', async () => {
    const sender = new RecordingSender()
    const sink = new EventGridAlertSink(sender, { stage: 'dev' })
    await sink.publish(overheatAndCool('esp32-0001'))
    await sink.publish(overheatAndCool('esp32-0001'))
    await sink.publish(overheatAndCool('esp32-0002'))

    const ids = sender.calls.map((events) => events.map((e) => e.id))
    expect(ids[1]).toEqual(ids[0])
    expect(new Set(ids.flat()).size).toBe(4)
  })

  it('splits many transitions into requests of maxBatch events, in order', async () => {
    const sender = new RecordingSender()
    const transitions = Array.from({ length: 5 }, (_, i) => overheatAndCool(`esp32-000${i}`)).flat()

    await new EventGridAlertSink(sender, { stage: 'dev', maxBatch: 4 }).publish(transitions)

    expect(sender.calls.map((events) => events.length)).toEqual([4, 4, 2])
    expect(sender.calls.flat().map((e) => e.data)).toEqual(transitions)
  })

  it('sends nothing for no transitions', async () => {
    const sender = new RecordingSender()
    await new EventGridAlertSink(sender, { stage: 'dev' }).publish([])
    expect(sender.calls).toEqual([])
  })

  it('retries throttling, 5xx and network failures with the same events', async () => {
    const network = Object.assign(new Error('socket hang up'), { code: 'REQUEST_SEND_ERROR' })
    const sender = new RecordingSender([restError(429), restError(503), network])

    await new EventGridAlertSink(sender, { stage: 'dev', retry: noWait }).publish(overheatAndCool())

    expect(sender.calls).toHaveLength(4)
    expect(sender.calls[3]).toEqual(sender.calls[0])
  })

  it('gives up after the attempts with a TransientError whose cause is the last failure', async () => {
    const last = restError(500)
    const sender = new RecordingSender([restError(503), restError(502), last])
    const sink = new EventGridAlertSink(sender, { stage: 'dev', retry: { ...noWait, attempts: 3 } })

    const error = await sink.publish(overheatAndCool()).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(TransientError)
    expect((error as TransientError).cause).toBe(last)
    expect(sender.calls).toHaveLength(3)
  })

  it('throws a refusal (bad key, bad event) at once, as it is', async () => {
    const denied = restError(401, 'Unauthorized')
    const sender = new RecordingSender([denied])

    await expect(
      new EventGridAlertSink(sender, { stage: 'dev', retry: noWait }).publish(overheatAndCool()),
    ).rejects.toBe(denied)
    expect(sender.calls).toHaveLength(1)
  })
})
