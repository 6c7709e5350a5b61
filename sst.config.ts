/// <reference path="./.sst/platform/config.d.ts" />

// The stages. Which clouds a deploy builds: FLEETPIPE_CLOUDS, a comma-separated list of `aws`,
// `azure` and `gcp` (default `aws`). AWS is SST's home either way: the app's state lives there.
// Each edge is made of plain functions from infra/<cloud>, tested under Pulumi mocks.
const CLOUDS = ['aws', 'azure', 'gcp'] as const
type Cloud = (typeof CLOUDS)[number]

function clouds(): Cloud[] {
  const wanted = (process.env.FLEETPIPE_CLOUDS ?? 'aws').split(',').map((c) => c.trim())
  const unknown = wanted.filter((c) => !CLOUDS.includes(c as Cloud))
  if (unknown.length > 0)
    throw new Error(`FLEETPIPE_CLOUDS: unknown ${unknown.join(', ')} (use ${CLOUDS.join(', ')})`)
  return wanted as Cloud[]
}

export default $config({
  app(input) {
    const wanted = clouds()
    return {
      name: 'fleetpipe',
      home: 'aws',
      // Production data outlives a mistaken `sst remove`.
      removal: input?.stage === 'production' ? 'retain' : 'remove',
      protect: input?.stage === 'production',
      // Pinned: aws is SST 4.17's own default; infra/azure and infra/gcp are tested against these
      // versions (devDependencies).
      providers: {
        aws: { version: '7.20.0' },
        ...(wanted.includes('azure') ? { 'azure-native': { version: '3.28.0' } } : {}),
        ...(wanted.includes('gcp')
          ? { gcp: { version: '9.37.0', region: process.env.FLEETPIPE_GCP_REGION ?? 'europe-west1' } }
          : {}),
      },
    }
  },
  async run() {
    const wanted = clouds()
    const stage = { app: $app.name, stage: $app.stage, production: $app.stage === 'production' }
    const outputs: Record<string, $util.Input<string>> = {}

    if (wanted.includes('aws')) {
      // SST refuses static imports in this file: imports inside run() are dynamic.
      const { awsEdge, awsIngest, awsRetrain, heartbeatSweep, ingestEnvironment, TASK_HANDLER_EXPORTS } =
        await import('./infra/aws/index.ts')
      const timeoutSeconds = 30
      const edge = awsEdge(aws, { ...stage, functionTimeoutSeconds: timeoutSeconds })
      const ingest = new sst.aws.Function('Ingest', {
        handler: 'functions/aws/src/index.handler',
        runtime: 'nodejs22.x',
        // Pure JavaScript, no native module: arm64 is the cheaper architecture.
        architecture: 'arm64',
        timeout: `${timeoutSeconds} seconds`,
        memory: '512 MB',
        environment: ingestEnvironment(edge),
        // Permissions come from infra/aws/iam.ts, on this function's role: no `link` or `permissions`
        // here (SST would take over the role's inline policies and remove that one), and no Live mode,
        // which adds its own. An SQS consumer is tried locally with `fleetpipe dev --cloud aws`.
        dev: false,
        nodejs: {
          // The Node.js runtimes ship AWS SDK v3, so it stays out of the bundle (~110 KB; `npm run bench`
          // prints size and cold import, and what bundling the SDK instead would change). SST already
          // bundles ESM with `mainFields: ['module', 'main']`.
          esbuild: { external: ['@aws-sdk/*'] },
        },
      })
      awsIngest(aws, edge, { functionArn: ingest.arn, functionRoleName: ingest.nodes.role.name })
      // The heartbeat sweep: the same code and environment, on EventBridge Scheduler's minute.
      const sweep = new sst.aws.Function('Sweep', {
        handler: 'functions/aws/src/index.sweepHandler',
        runtime: 'nodejs22.x',
        architecture: 'arm64',
        timeout: '60 seconds',
        memory: '512 MB',
        environment: ingestEnvironment(edge),
        dev: false,
        nodejs: { esbuild: { external: ['@aws-sdk/*'] } },
      })
      heartbeatSweep(aws, edge, { ...stage, functionArn: sweep.arn, functionRoleName: sweep.nodes.role.name })
      // Retraining (infra/aws/retrain.ts): a Lambda per task state and the trigger, built as Ingest is;
      // their permissions come from infra/aws/retrain.ts, on each function's role.
      const retrainFunction = (
        name: string,
        handler: string,
        environment: Record<string, $util.Input<string>>,
      ) => {
        const fn = new sst.aws.Function(name, {
          handler: `functions/aws/src/retrain.${handler}`,
          runtime: 'nodejs22.x',
          architecture: 'arm64',
          // Training streams the dataset three times: the 15 minutes Lambda allows, and memory for speed.
          timeout: name === 'RetrainTrigger' ? '30 seconds' : '900 seconds',
          memory: name === 'RetrainTrain' || name === 'RetrainEvaluate' ? '1769 MB' : '512 MB',
          environment,
          dev: false,
          nodejs: { esbuild: { external: ['@aws-sdk/*'] } },
        })
        return { functionArn: fn.arn, functionRoleName: fn.nodes.role.name }
      }
      const retrain = awsRetrain(aws, edge, {
        app: $app.name,
        taskFunction: (task, environment) =>
          retrainFunction(`Retrain${task}`, TASK_HANDLER_EXPORTS[task], environment),
        triggerFunction: (environment) => retrainFunction('RetrainTrigger', 'trigger', environment),
      })
      Object.assign(outputs, {
        ingestFunction: ingest.name,
        sweepFunction: sweep.name,
        ingestQueue: edge.queues.queue.url,
        ingestDeadLetterQueue: edge.queues.deadLetterQueue.url,
        ruleErrorQueue: edge.rule.errorQueue.url,
        topicRule: edge.rule.rule.name,
        devicePolicy: edge.devicePolicy.name,
        alertTopic: edge.alerts.arn,
        dataBucket: edge.data.bucket.bucket,
        iotDataEndpoint: edge.iotDataEndpoint,
        retrainStateMachine: retrain.stateMachine.arn,
        retrainTopic: retrain.topic.arn,
      })
    }

    if (wanted.includes('azure')) {
      const { azureEdge, buildAzureApp } = await import('./infra/azure/index.ts')
      const edge = azureEdge(azurenative, {
        ...stage,
        location: process.env.FLEETPIPE_AZURE_LOCATION ?? 'westeurope',
        // Built at deploy time from functions/azure (paths resolve from the repository root).
        code: await buildAzureApp('.fleetpipe/azure-app'),
        databasePassword: new sst.Secret('AzureDatabasePassword').value,
      })
      Object.assign(outputs, {
        azureIotHub: edge.iotHub.hub.name,
        azureIotHubHost: edge.iotHub.hostName,
        azureFunctionApp: edge.app.app.name,
        azureAlertTopic: edge.alerts.endpoint,
        azureDatabase: edge.database.server.fullyQualifiedDomainName,
      })
    }

    if (wanted.includes('gcp')) {
      const { buildGcpSource, gcpEdge } = await import('./infra/gcp/index.ts')
      const edge = gcpEdge(gcp, {
        ...stage,
        region: process.env.FLEETPIPE_GCP_REGION ?? 'europe-west1',
        code: { archive: new $util.asset.FileArchive(await buildGcpSource('.fleetpipe/gcp-ingest')) },
        databasePassword: new sst.Secret('GcpDatabasePassword').value,
      })
      Object.assign(outputs, {
        gcpTelemetryTopic: edge.topics.telemetry.name,
        gcpCommandsSubscription: edge.subscriptions.commands.name,
        gcpDeadLetterSubscription: edge.subscriptions.deadLetters.name,
        gcpBridgeAccount: edge.accounts.bridge.email,
        gcpFunction: edge.function.name,
        gcpSweepFunction: edge.sweep.function.name,
        gcpSweepSchedule: edge.sweep.job.name,
      })
    }

    return outputs
  },
})
