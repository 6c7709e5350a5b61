import { parseRules, type RuleInput } from './rules.ts'

/** Shipped for the simulated motor nodes, so a local run shows real detections. */
export const defaultRules = parseRules([
  {
    id: 'over-temperature',
    kind: 'threshold',
    metric: 'temperature',
    above: 80,
    clear: 75,
    severity: 'critical',
    command: { name: 'safe-mode' },
  },
  {
    id: 'high-vibration',
    kind: 'threshold',
    metric: 'vibration',
    above: 1.5,
    clear: 1.0,
    severity: 'warning',
  },
] satisfies RuleInput[])
