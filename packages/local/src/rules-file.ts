import { readFile } from 'node:fs/promises'
import { ConfigError, parseRulesJson, type Rule } from '@fleetpipe/core'

/** Reads a JSON rules file: an array of rules, or `{ "rules": [...] }`. */
export async function loadRulesFile(path: string): Promise<Rule[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read the rules file ${path}: ${(error as Error).message}`)
  }
  try {
    return parseRulesJson(text)
  } catch (error) {
    throw new ConfigError(`${path}: ${(error as Error).message}`)
  }
}
