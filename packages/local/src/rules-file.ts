import { readFile } from 'node:fs/promises'
import {
  ConfigError,
  type DeviceTypeSpec,
  parseRulesDocument,
  parseRulesJson,
  type Rule,
  RulesFileSchema,
} from '@fleetpipe/core'
import { parse as parseYaml } from 'yaml'

/**
 * Reads a rules file: JSON, or YAML when its name ends in .yaml or .yml. Either holds an array of
 * rules, or `{ deviceTypes: [...], rules: [...] }`.
 */
export async function loadRulesFile(path: string): Promise<Rule[]> {
  return (await loadRulesDocument(path)).rules
}

/** A rules file's rules and its `deviceTypes` (none for a bare array of rules), for drift's counts by type. */
export async function loadRulesDocument(
  path: string,
): Promise<{ rules: Rule[]; deviceTypes: DeviceTypeSpec[] }> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read the rules file ${path}: ${(error as Error).message}`)
  }
  try {
    const yaml = /\.ya?ml$/i.test(path)
    const body = yaml ? parseYamlText(text) : undefined
    const rules = yaml ? parseRulesDocument(body) : parseRulesJson(text)
    const document = (body ?? JSON.parse(text)) as { deviceTypes?: unknown } | null
    const types = RulesFileSchema.shape.deviceTypes.safeParse(document?.deviceTypes)
    return { rules, deviceTypes: types.success ? types.data : [] }
  } catch (error) {
    throw new ConfigError(`${path}: ${(error as Error).message}`)
  }
}

function parseYamlText(text: string): unknown {
  try {
    return parseYaml(text, { prettyErrors: true })
  } catch (error) {
    throw new ConfigError(`rules are not YAML: ${(error as Error).message}`)
  }
}
