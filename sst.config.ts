/// <reference path="./.sst/platform/config.d.ts" />

// The stages: the AWS edge (IoT Core → SQS → Lambda → Timestream/DynamoDB, SNS, commands) is wired
// here from infra/aws; the Azure and GCP edges will come from infra/azure and infra/gcp.
export default $config({
  app(input) {
    return {
      name: 'fleetpipe',
      home: 'aws',
      // Production data outlives a mistaken `sst remove`.
      removal: input?.stage === 'production' ? 'retain' : 'remove',
      protect: input?.stage === 'production',
    }
  },
  async run() {
    // SST refuses static imports in this file: imports inside run() are dynamic.
    const { awsEdge, awsIngest, ingestEnvironment } = await import('./infra/aws/index.ts')
    const production = $app.stage === 'production'
    const timeoutSeconds = 30

    const edge = awsEdge(aws, {
      app: $app.name,
      stage: $app.stage,
      production,
      functionTimeoutSeconds: timeoutSeconds,
    })
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

    return {
      ingestFunction: ingest.name,
      ingestQueue: edge.queues.queue.url,
      ingestDeadLetterQueue: edge.queues.deadLetterQueue.url,
      ruleErrorQueue: edge.rule.errorQueue.url,
      topicRule: edge.rule.rule.name,
      devicePolicy: edge.devicePolicy.name,
      alertTopic: edge.alerts.arn,
      dataBucket: edge.data.bucket.bucket,
      iotDataEndpoint: edge.iotDataEndpoint,
    }
  },
})
