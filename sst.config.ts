/// <reference path="./.sst/platform/config.d.ts" />

// Stages only, for now: the AWS edge (IoT Core → Lambda → store, SNS, commands) is wired here
// from infra/aws, and the Azure and GCP edges from infra/azure and infra/gcp, as they land.
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
    return {}
  },
})
