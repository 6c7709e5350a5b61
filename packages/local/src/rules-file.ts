import { readFile } from 'node:fs/promises'
import { ConfigError, parseRulesDocument, parseRulesJson, type Rule } from '@fleetpipe/core'
import { parse as parseYaml } from 'yaml'

/**
 * Reads a rules file: JSON, or YAML when its name ends in .yaml or .yml. Either holds an array of
 * rules, or `{ deviceTypes: [...], rules: [...] }`.
 */
export async function loadRulesFile(path: string): Promise<Rule[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read the rules file ${path}: ${(error as Error).message}`)
  }
  try {
    return /\.ya?ml$/i.test(path) ? parseRulesDocument(parseYamlText(text)) : parseRulesJson(text)
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
