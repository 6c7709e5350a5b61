/**
 * Rules as the hot path reads them. A parsed rule is a plain object whose shape depends on its kind
 * and on which optional fields it sets, so code reading many rules sees many shapes and V8 falls
 * back to slow, generic property loads. A PlannedRule is one class with every field always set:
 * one shape for all rules, with what the detectors and the alert lifecycle ask per reading worked
 * out once. Rules are treated as immutable once parsed (as rule selection already assumes).
 */
import { type Rule, type RuleKind, type Severity, selects } from './rules.ts'

export class PlannedRule {
  readonly id: string
  readonly kind: RuleKind
  /** The metric the rule watches; undefined for heartbeat and model-score (the device, the whole reading). */
  readonly metric: string | undefined
  /** For model-score: the device type whose champion model scores the readings. */
  readonly modelType: string | undefined
  /** `for`, `clearFor` and `cooldown` in ms; 0 when unset (as the rule's own falsy value reads). */
  readonly forMs: number
  readonly clearForMs: number
  readonly cooldownMs: number
  readonly escalate: { after: number; severity: Severity } | undefined
  /** Deviation detectors (zscore, spike): a new reading's weight once warmed up, from `halfLife`. */
  readonly decay: number

  constructor(readonly rule: Rule) {
    this.id = rule.id
    this.kind = rule.kind
    this.metric = 'metric' in rule ? rule.metric : undefined
    this.modelType = rule.kind === 'model-score' ? rule.deviceType : undefined
    this.forMs = rule.for ?? 0
    this.clearForMs = rule.clearFor ?? 0
    this.cooldownMs = rule.cooldown ?? 0
    this.escalate = rule.escalate
    this.decay = 'halfLife' in rule ? 1 - 2 ** (-1 / rule.halfLife) : 0
  }
}

const plans = new WeakMap<Rule, PlannedRule>()

/** The plan of one rule, made on first use. */
export function planOf(rule: Rule): PlannedRule {
  let plan = plans.get(rule)
  if (!plan) {
    plan = new PlannedRule(rule)
    plans.set(rule, plan)
  }
  return plan
}

/**
 * The rules of a rule set that watch one device, planned, and their ids: the order in which the
 * device keeps their numbers. Devices watched by the same rules share one.
 */
export interface Watchers {
  plans: readonly PlannedRule[]
  ids: readonly string[]
}

/**
 * The rules of a rule set that watch a device (those that `selects` it). Devices watched by the
 * same rules get the same answer, so a device's layout check is one comparison. Worked out once per
 * device and rule set: `watchersOf` remembers it.
 */
export function planFor(rules: readonly Rule[], deviceId: string): Watchers {
  let shared = sharedWatchers.get(rules)
  if (!shared) {
    shared = new Map()
    sharedWatchers.set(rules, shared)
  }
  const plans = rules.filter((rule) => selects(rule, deviceId)).map(planOf)
  const ids = plans.map((plan) => plan.id)
  const key = ids.join('\u0000')
  let answer = shared.get(key)
  if (answer === undefined) {
    answer = { plans, ids }
    shared.set(key, answer)
  }
  return answer
}

/** Per rule set, its Watchers by their rule ids: as many as there are different selections. */
const sharedWatchers = new WeakMap<readonly Rule[], Map<string, Watchers>>()
