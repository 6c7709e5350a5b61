export {
  type Dataset,
  type DatasetOptions,
  DEFAULT_RATES,
  DEFAULT_START,
  deviceDays,
  generateDataset,
} from './dataset.ts'
export { countLabels, type EvalLabel, LABEL_KINDS, type LabelKind, TARGETS, targetsOf } from './labels.ts'
export { type EvalReport, type EvaluateOptions, evaluate, type ReportRow } from './report.ts'
export {
  BASELINE,
  baselineAlerts,
  DEFAULT_BATCH_SIZE,
  type EvalAlert,
  type RunOptions,
  type RunResult,
  runRules,
  SWEEP_EVERY_MS,
} from './run.ts'
export { median, type Score, type ScoreOptions, score } from './score.ts'
