/** The AWS wiring: SDK clients and the adapters from `@fleetpipe/aws`. The only module that names them. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane'
import { S3Client } from '@aws-sdk/client-s3'
import { SNSClient } from '@aws-sdk/client-sns'
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import {
  DynamoDbStateStore,
  EventBridgeTrigger,
  IotCommandPublisher,
  S3ModelSource,
  S3Quarantine,
  SnsAlertSink,
  TimestreamTelemetryStore,
} from '@fleetpipe/aws'
import { DriftWatch, type IngestDeps, systemClock } from '@fleetpipe/core'
import { defaultLogger, type HandlerOptions } from './_report.ts'
import { loadConfig } from './config.ts'

/**
 * The adapters and handler options for this environment. Called once per cold start, so the SDK
 * clients (and their connection pools) are made once and reused by every invocation.
 */
export function depsFromEnv(env: Record<string, string | undefined>): {
  deps: IngestDeps
  options: HandlerOptions
} {
  const config = loadConfig(env)
  const logger = defaultLogger(config.stage)
  // State values are plain objects whose optional fields may be undefined.
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  })
  const s3 = new S3Client({})
  const iot = new IoTDataPlaneClient(config.iotDataEndpoint ? { endpoint: config.iotDataEndpoint } : {})
  const deps: IngestDeps = {
    store: new TimestreamTelemetryStore(new TimestreamWriteClient({}), config.timestream),
    state: new DynamoDbStateStore(doc, { table: config.stateTable }),
    quarantine: new S3Quarantine(s3, { bucket: config.quarantineBucket }),
    alerts: new SnsAlertSink(new SNSClient({}), { topicArn: config.alertTopicArn }),
    commands: new IotCommandPublisher(iot),
    clock: systemClock,
    // Champions live in the data bucket (the quarantine's), under models/.
    models: new S3ModelSource(s3, { bucket: config.quarantineBucket }),
  }
  // RetrainRequested on the default bus, where infra/aws/retrain.ts's drift rule starts the pipeline.
  const drift = config.drift
    ? new DriftWatch(
        {
          state: deps.state,
          trigger: new EventBridgeTrigger(new EventBridgeClient({}), { eventBusName: DEFAULT_EVENT_BUS }),
          clock: deps.clock,
        },
        config.drift,
      )
    : undefined
  return {
    deps,
    options: {
      stage: config.stage,
      rules: config.rules,
      maxAgeMs: config.maxAgeMs,
      logger,
      ...(drift ? { drift } : {}),
    },
  }
}

export const DEFAULT_EVENT_BUS = 'default'
