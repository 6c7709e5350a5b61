import { describe, expect, it } from 'vitest'
import { parseRulesJson, RulesError } from '../src/index.ts'

const rule = { id: 'cold', kind: 'threshold', metric: 'temperature', below: 0, severity: 'warning' }

describe('parseRulesJson', () => {
  it('takes an array of rules, or an object holding them under `rules`, with defaults applied', () => {
    const expected = [{ ...rule, devices: '*' }]
    expect(parseRulesJson(JSON.stringify([rule]))).toEqual(expected)
    expect(parseRulesJson(JSON.stringify({ rules: [rule] }))).toEqual(expected)
  })

  it('says when the text is not JSON, and names the rule and field of a bad rule', () => {
    expect(() => parseRulesJson('[{"id":')).toThrow(RulesError)
    expect(() => parseRulesJson('[{"id":')).toThrow(/rules are not JSON/)
    expect(() => parseRulesJson(JSON.stringify([{ ...rule, severity: 'dire' }]))).toThrow(
      /rule cold severity: /,
    )
    expect(() => parseRulesJson('{"rulez":[]}')).toThrow(RulesError)
  })
})
