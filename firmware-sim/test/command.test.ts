import { describe, expect, it } from 'vitest'
import { parseCommand } from '../src/index.ts'

describe('parseCommand', () => {
  it('accepts the command shape the cloud publishes and refuses anything else', () => {
    const payload = JSON.stringify({ id: 'c1', deviceId: 'esp32-0001', command: 'safe-mode', reason: 'hot' })
    expect(parseCommand(Buffer.from(payload), 'esp32-0001')).toEqual({
      id: 'c1',
      deviceId: 'esp32-0001',
      command: 'safe-mode',
      reason: 'hot',
    })
    expect(parseCommand(payload, 'esp32-0002')).toBeUndefined()
    expect(parseCommand('{"deviceId":"esp32-0001","command":"safe-mode"}', 'esp32-0001')).toBeUndefined()
    expect(parseCommand('[1]', 'esp32-0001')).toBeUndefined()
    expect(parseCommand('{', 'esp32-0001')).toBeUndefined()
  })
})
