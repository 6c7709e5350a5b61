export { Bridge, type BridgeCounts, type BridgeOptions } from './bridge.ts'
export { type EmbeddedBroker, startBroker, startBrokerWithFallback } from './broker.ts'
export {
  awsIngest,
  azureIngest,
  CLOUD_PATHS,
  CLOUDS,
  type Cloud,
  type CloudIngest,
  cloudIngest,
  gcpIngest,
} from './cloud-ingest.ts'
export { type Config, loadConfig } from './config.ts'
export { type Io, runDev, type Summary } from './dev.ts'
export { MqttCommandPublisher } from './mqtt-commands.ts'
export { type Ingest, localDeps, localIngest, type PipelineOptions } from './pipeline.ts'
export {
  bucketDir,
  datasetRun,
  executionsDir,
  FolderModelSource,
  localRetrain,
  logNotifier,
  retrainFromFile,
  watchDatasets,
} from './retrain.ts'
