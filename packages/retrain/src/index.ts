export {
  type BlobInfo,
  type BlobStore,
  candidateKey,
  DATASETS_PREFIX,
  deviceTypeOfKey,
  getText,
  MemoryBlobStore,
  MODELS_PREFIX,
  modelKey,
  pointerKey,
  RUNS_PREFIX,
} from './blob.ts'
export { type RetrainConfig, type RetrainConfigInput, RetrainConfigSchema, retrainConfig } from './config.ts'
export {
  DATASET_SUFFIXES,
  type DatasetFormat,
  type DatasetRow,
  formatOf,
  lines,
  readDataset,
} from './dataset.ts'
export {
  datasetLines,
  type LabelWindow,
  labeler,
  VALUE_ANOMALIES,
  writeDatasetFile,
} from './dataset-writer.ts'
export {
  type DefinitionOptions,
  RETRYABLE_ERRORS,
  retrainDefinition,
  type StateMachineDefinition,
  TASKS,
  type TaskName,
  type TaskResources,
} from './definition.ts'
export { AslError, DatasetError } from './errors.ts'
export { type Comparison, compareOnHoldout, type Scores } from './evaluate.ts'
export { FolderBlobStore } from './folder-blob-store.ts'
export { type Execution, execute, type HistoryEvent, type InterpreterOptions } from './interpreter.ts'
export {
  type ExecutionRecord,
  LOCAL_RESOURCES,
  LocalRetrain,
  type LocalRetrainOptions,
} from './local-runner.ts'
export {
  currentModel,
  listModels,
  type ModelListing,
  POINTER_FORMAT,
  type Pointer,
  parseModelText,
  parsePointer,
  promote,
  readPointer,
} from './registry.ts'
export { inHoldout } from './reservoir.ts'
export {
  type DatasetSource,
  DEFAULT_EXPORT_LOOKBACK_MS,
  DEFAULT_EXPORT_MAX_ROWS,
  exportKey,
  StoreDatasetExporter,
  type StoreExporterOptions,
} from './store-exporter.ts'
export {
  causeOf,
  type DatasetExporter,
  type DatasetRef,
  type DatasetSummary,
  describe,
  type Notifier,
  type RetrainNotification,
  type RetrainState,
  runId,
  TASK_HANDLERS,
  type TaskDeps,
  type TaskHandler,
} from './tasks.ts'
export { invert, type TrainOptions, train } from './train.ts'
