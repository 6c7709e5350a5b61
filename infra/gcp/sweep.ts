/**
 * The heartbeat sweep on GCP: Cloud Scheduler POSTs to the sweep function once a minute, with an
 * OIDC token of an account of its own, which may invoke that one function and nothing else. The
 * function is the ingest bundle with the `sweep` entry point (functions/gcp/src/register.ts),
 * running as the ingest account: it reads and writes device state in the same database and
 * publishes the same alerts and commands, so it needs exactly that account's grants.
 *
 * Whoever deploys needs `iam.serviceAccounts.actAs` on the scheduler's account (a job runs as it).
 * Projects that enabled Cloud Scheduler before 19 March 2019 must also let its service agent
 * (`service-PROJECT_NUMBER@gcp-sa-cloudscheduler`) create tokens for the account; later ones have it.
 * https://cloud.google.com/scheduler/docs/http-target-auth
 */
import type * as pulumi from '@pulumi/pulumi'
import { type Gcp, physicalName, type StageArgs, serviceAccountId } from './common.ts'
import { bundleFunction, type FunctionArgs } from './function.ts'

/** Unix cron, every minute, read in `SWEEP_TIME_ZONE`. */
export const SWEEP_SCHEDULE = '* * * * *'
export const SWEEP_TIME_ZONE = 'Etc/UTC'

export const SWEEP_FUNCTION = {
  /** functions/gcp/src/register.ts `SWEEP_FUNCTION_NAME`. */
  entryPoint: 'sweep',
  timeoutSeconds: 60,
  /** One sweep at a time is all a minute needs; its pool is kept out of ingest's (see gcpEdge). */
  maxInstances: 1,
}

/**
 * All, with authentication required (nothing grants `allUsers` the invoker role): Cloud Run's front
 * end refuses a request without a valid OIDC token of an account holding `run.invoker` on this
 * service before the function runs. Not internal-only, as ingest is: whether Cloud Run counts a
 * Cloud Scheduler request as internal depends on its list of Google products treated so (it has
 * changed over time); all + IAM does not, and the sweep reads nothing from the request, so a
 * caller with a token could only make it run sooner.
 * https://cloud.google.com/run/docs/securing/ingress
 * https://cloud.google.com/run/docs/triggering/using-scheduler
 */
export const SWEEP_INGRESS_SETTINGS = 'ALLOW_ALL'

/**
 * A missed minute is made up by the next sweep: two retries, backing off from 5 to 20 seconds, so
 * a failing sweep is not retried into the next minute's.
 * https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#retryconfig
 */
export const SWEEP_RETRY = {
  retryCount: 2,
  minBackoffDuration: '5s',
  maxBackoffDuration: '20s',
  maxDoublings: 2,
}

export function heartbeatSweep(gcp: Gcp, args: Omit<FunctionArgs, 'timeoutSeconds' | 'maxInstances'>) {
  const fn = bundleFunction(
    gcp,
    { ...args, timeoutSeconds: SWEEP_FUNCTION.timeoutSeconds, maxInstances: SWEEP_FUNCTION.maxInstances },
    {
      logicalName: 'SweepFunction',
      what: 'sweep',
      description: `fleetpipe ${args.stage}: the heartbeat sweep, on Cloud Scheduler's minute`,
      entryPoint: SWEEP_FUNCTION.entryPoint,
      ingressSettings: SWEEP_INGRESS_SETTINGS,
    },
  )
  const uri = fn.serviceConfig.apply((config) => config?.uri ?? '')
  const account = new gcp.serviceaccount.Account('SweepSchedulerAccount', {
    accountId: serviceAccountId(args, 'scheduler'),
    displayName: `fleetpipe ${args.stage} scheduler`,
    description: 'Cloud Scheduler signs its calls to the sweep function as this account.',
  })
  // run.routes.invoke on the sweep function's Cloud Run service only (its name is the function's).
  const invoke = new gcp.cloudrunv2.ServiceIamMember('SchedulerInvokesSweep', {
    name: fn.name,
    location: fn.location,
    role: 'roles/run.invoker',
    member: account.member,
  })
  const job = schedulerJob(gcp, { ...args, uri, serviceAccountEmail: account.email, dependsOn: [invoke] })
  return { function: fn, uri, account, invoke, job }
}

function schedulerJob(
  gcp: Gcp,
  args: StageArgs & {
    region: string
    uri: pulumi.Input<string>
    serviceAccountEmail: pulumi.Input<string>
    dependsOn: pulumi.Resource[]
  },
) {
  return new gcp.cloudscheduler.Job(
    'SweepSchedule',
    {
      name: physicalName(args, 'sweep'),
      region: args.region,
      description: `fleetpipe ${args.stage}: the heartbeat sweep, once a minute`,
      schedule: SWEEP_SCHEDULE,
      timeZone: SWEEP_TIME_ZONE,
      // As long as the function may run: Scheduler counts an attempt cut short as failed, and retries.
      attemptDeadline: `${SWEEP_FUNCTION.timeoutSeconds}s`,
      retryConfig: SWEEP_RETRY,
      httpTarget: {
        uri: args.uri,
        httpMethod: 'POST',
        // The service's URL, which Cloud Run accepts as the audience (Scheduler's default, written out).
        oidcToken: { serviceAccountEmail: args.serviceAccountEmail, audience: args.uri },
      },
    },
    { dependsOn: args.dependsOn },
  )
}
