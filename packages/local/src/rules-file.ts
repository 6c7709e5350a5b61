import { readFile } from 'node:fs/promises'
import { ConfigError, parseRules, type Rule } from '@fleetpipe/core'

/** Reads a JSON rules file: an array of rules, or `{ "rules": [...] }`. */
export async function loadRulesFile(path: string): Promise<Rule[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read the rules file ${path}: ${(error as Error).message}`)
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    throw new ConfigError(`the rules file ${path} is not JSON: ${(error as Error).message}`)
  }
  const list = Array.isArray(body) ? body : (body as { rules?: unknown })?.rules
  try {
    return parseRules(list)
  } catch (error) {
    throw new ConfigError(`${path}: ${(error as Error).message}`)
  }
}
