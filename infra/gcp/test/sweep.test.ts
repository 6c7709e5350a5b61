import { beforeAll, describe, expect, it } from 'vitest'
import { SWEEP_FUNCTION_NAME } from '../../../functions/gcp/src/register.ts'
import { buildStages, PROJECT, REGION, runUri, type Stage, typeOf, value } from './_mocks.ts'

let dev: Stage

beforeAll(async () => {
  ;({ dev } = await buildStages())
})

const SCHEDULER = `fleetpipe-dev-scheduler@${PROJECT}.iam.gserviceaccount.com`

describe('the heartbeat sweep schedule', () => {
  it('POSTs to the sweep function every minute, in UTC, with bounded retries', async () => {
    const { job } = dev.edge.sweep
    expect(await typeOf(job)).toBe('gcp:cloudscheduler/job:Job')
    expect(await value(job.name)).toBe('fleetpipe-dev-sweep')
    expect(await value(job.region)).toBe(REGION)
    expect(await value(job.schedule)).toBe('* * * * *')
    expect(await value(job.timeZone)).toBe('Etc/UTC')
    expect(await value(job.attemptDeadline)).toBe('60s')
    expect(await value(job.retryConfig)).toEqual({
      retryCount: 2,
      minBackoffDuration: '5s',
      maxBackoffDuration: '20s',
      maxDoublings: 2,
    })
    expect(await value(job.httpTarget)).toEqual({
      uri: runUri('fleetpipe-dev-sweep'),
      httpMethod: 'POST',
      oidcToken: { serviceAccountEmail: SCHEDULER, audience: runUri('fleetpipe-dev-sweep') },
    })
  })

  it("signs as an account of its own, which may invoke the sweep function's service and nothing else", async () => {
    const { account, invoke, function: fn } = dev.edge.sweep
    expect(await value(account.email)).toBe(SCHEDULER)
    expect(await value(invoke.role)).toBe('roles/run.invoker')
    expect(await value(invoke.member)).toBe(`serviceAccount:${SCHEDULER}`)
    expect(await value(invoke.name)).toBe(await value(fn.name))
    expect(await value(invoke.location)).toBe(REGION)
    // Not on ingest: the ingest function's only invoker is Pub/Sub's account.
    expect(await value(invoke.name)).not.toBe(await value(dev.edge.function.name))
    expect(await value(dev.edge.iam.invoke.member)).not.toBe(`serviceAccount:${SCHEDULER}`)
  })
})

describe('the sweep function', () => {
  it('runs the same bundle as ingest, with the entry point functions/gcp registers for the sweep', async () => {
    const sweep = await value(dev.edge.sweep.function.buildConfig)
    const ingest = await value(dev.edge.function.buildConfig)
    expect(SWEEP_FUNCTION_NAME).toBe('sweep')
    expect(sweep).toEqual({ ...ingest, entryPoint: SWEEP_FUNCTION_NAME })
  })

  it('runs as the ingest account with its environment and network; all ingress, IAM required', async () => {
    const sweep = await value(dev.edge.sweep.function.serviceConfig)
    const ingest = await value(dev.edge.function.serviceConfig)
    expect(sweep).toMatchObject({
      serviceAccountEmail: ingest?.serviceAccountEmail,
      environmentVariables: ingest?.environmentVariables,
      secretEnvironmentVariables: ingest?.secretEnvironmentVariables,
      directVpcNetworkInterfaces: ingest?.directVpcNetworkInterfaces,
      directVpcEgress: ingest?.directVpcEgress,
      // Cloud Scheduler reaches the run.app URL; Cloud Run checks its OIDC token.
      ingressSettings: 'ALLOW_ALL',
      timeoutSeconds: 60,
      maxInstanceCount: 1,
      maxInstanceRequestConcurrency: 1,
    })
  })
})
