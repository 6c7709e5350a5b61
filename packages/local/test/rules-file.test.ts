import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '@fleetpipe/core'
import { describe, expect, it } from 'vitest'
import { loadRulesFile } from '../src/rules-file.ts'

async function file(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetpipe-rules-'))
  const path = join(dir, name)
  await writeFile(path, text)
  return path
}

const yaml = `
deviceTypes:
  - name: env
    devices: esp32-env-*
  - name: motor
    devices: esp32-*
rules:
  - id: motor-hot
    kind: threshold
    deviceType: motor
    metric: temperature
    above: 80
    clear: 75
    for: 30s
    severity: critical
  - id: quiet
    kind: heartbeat
    after: 5m
    severity: warning
`

describe('rules files', () => {
  it('reads YAML with device types, as it reads JSON', async () => {
    const rules = await loadRulesFile(await file('rules.yaml', yaml))
    expect(rules.map((r) => [r.id, r.kind])).toEqual([
      ['motor-hot', 'threshold'],
      ['quiet', 'heartbeat'],
    ])
    expect(rules[0]).toMatchObject({
      for: 30_000,
      typeMatch: { include: ['esp32-*'], exclude: ['esp32-env-*'] },
    })
    expect(rules[1]).toMatchObject({ after: 300_000, offline: true })
  })

  it('names the file, the rule and the field at fault', async () => {
    const path = await file('bad.yml', yaml.replace('after: 5m', 'after: soon'))
    await expect(loadRulesFile(path)).rejects.toThrow(ConfigError)
    await expect(loadRulesFile(path)).rejects.toThrow(
      `${path}: invalid rules — rule quiet after: must be a duration such as 30s, 5m or 1h`,
    )
  })

  it('says where YAML that does not parse goes wrong', async () => {
    const path = await file('broken.yaml', 'rules:\n  - id: [unclosed\n')
    await expect(loadRulesFile(path)).rejects.toThrow(/rules are not YAML: .*at line 3, column 1/s)
  })
})
