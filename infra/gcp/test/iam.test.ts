import type * as pulumi from '@pulumi/pulumi'
import { beforeAll, describe, expect, it } from 'vitest'
import { serviceAccountId } from '../common.ts'
import { buildStages, PROJECT, PROJECT_NUMBER, REGION, type Stage, typeOf, value } from './_mocks.ts'

let dev: Stage
let production: Stage

beforeAll(async () => {
  ;({ dev, production } = await buildStages())
})

interface Grant {
  name: string
  type: string
  role: string
  member: string
  /** The resource the role is granted on. */
  on: string
}

const IAM_TYPE = /iam(member|binding|policy)/i

/** Every IAM resource of the stage, whatever its kind or module, with what it grants on what. */
async function grantsOf(stage: Stage): Promise<Grant[]> {
  const grants: Grant[] = []
  for (const resource of stage.resources) {
    const type = await typeOf(resource)
    if (!IAM_TYPE.test(type)) continue
    const fields = resource as unknown as Record<string, pulumi.Output<string> | undefined>
    const on = fields.topic ?? fields.subscription ?? fields.secretId ?? fields.name
    grants.push({
      name: (await value(resource.urn)).split('::').pop() ?? '',
      type,
      role: await value(fields.role ?? ''),
      member: await value(fields.member ?? ''),
      on: await value(on ?? ''),
    })
  }
  return grants.sort((a, b) => a.name.localeCompare(b.name))
}

const account = (stage: string, what: string) =>
  `serviceAccount:fleetpipe-${stage}-${what}@${PROJECT}.iam.gserviceaccount.com`
const PUBSUB_AGENT = `serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com`

describe('IAM', () => {
  it('grants each account one predefined role on one resource of the stage, and nothing else', async () => {
    for (const stage of [dev, production]) {
      const s = stage.edge.stage
      expect(await grantsOf(stage)).toEqual([
        {
          name: 'BridgePublishesTelemetry',
          type: 'gcp:pubsub/topicIAMMember:TopicIAMMember',
          role: 'roles/pubsub.publisher',
          member: account(s, 'bridge'),
          on: `fleetpipe-${s}-telemetry`,
        },
        {
          name: 'BridgePullsCommands',
          type: 'gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember',
          role: 'roles/pubsub.subscriber',
          member: account(s, 'bridge'),
          on: `fleetpipe-${s}-commands-bridge`,
        },
        {
          name: 'IngestPublishesAlerts',
          type: 'gcp:pubsub/topicIAMMember:TopicIAMMember',
          role: 'roles/pubsub.publisher',
          member: account(s, 'ingest'),
          on: `fleetpipe-${s}-alerts`,
        },
        {
          name: 'IngestPublishesCommands',
          type: 'gcp:pubsub/topicIAMMember:TopicIAMMember',
          role: 'roles/pubsub.publisher',
          member: account(s, 'ingest'),
          on: `fleetpipe-${s}-commands`,
        },
        {
          name: 'IngestReadsDatabaseUrl',
          type: 'gcp:secretmanager/secretIamMember:SecretIamMember',
          role: 'roles/secretmanager.secretAccessor',
          member: account(s, 'ingest'),
          on: `fleetpipe-${s}-database-url`,
        },
        {
          name: 'InvokerInvokesIngest',
          type: 'gcp:cloudrunv2/serviceIamMember:ServiceIamMember',
          role: 'roles/run.invoker',
          member: account(s, 'invoker'),
          on: `fleetpipe-${s}-ingest`,
        },
        {
          // Dead-lettering: the Pub/Sub service agent acknowledges, on the source subscription,
          // what it forwarded...
          name: 'PubsubAcknowledgesForwarded',
          type: 'gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember',
          role: 'roles/pubsub.subscriber',
          member: PUBSUB_AGENT,
          on: `fleetpipe-${s}-telemetry-ingest`,
        },
        {
          // ...to the dead-letter topic.
          name: 'PubsubPublishesDeadLetters',
          type: 'gcp:pubsub/topicIAMMember:TopicIAMMember',
          role: 'roles/pubsub.publisher',
          member: PUBSUB_AGENT,
          on: `fleetpipe-${s}-telemetry-dead-letter`,
        },
        {
          // Cloud Scheduler's account invokes the sweep function, and nothing else.
          name: 'SchedulerInvokesSweep',
          type: 'gcp:cloudrunv2/serviceIamMember:ServiceIamMember',
          role: 'roles/run.invoker',
          member: account(s, 'scheduler'),
          on: `fleetpipe-${s}-sweep`,
        },
      ])
    }
  })

  it("binds the invoker on the function's own Cloud Run service, in its region", async () => {
    const invoke = dev.edge.iam.invoke
    expect(await value(invoke.name)).toBe(await value(dev.edge.function.name))
    expect(await value(invoke.location)).toBe(REGION)
    const service = (await value(dev.edge.function.serviceConfig))?.service ?? ''
    expect(service.split('/').pop()).toBe(await value(invoke.name))
  })

  it('has no primitive or admin role, no public member, no policy that replaces others, nothing on the project', async () => {
    for (const stage of [dev, production]) {
      for (const grant of await grantsOf(stage)) {
        expect(grant.type, grant.name).toMatch(/IamMember|IAMMember/)
        expect(grant.type, grant.name).not.toMatch(/^gcp:(projects|organizations|folders)\//)
        expect(grant.role, grant.name).not.toMatch(/^roles\/(owner|editor|viewer)$/)
        expect(grant.role, grant.name).not.toMatch(/admin/i)
        expect(grant.member, grant.name).not.toMatch(/allUsers|allAuthenticatedUsers/)
        expect(grant.member, grant.name).toMatch(/^serviceAccount:/)
      }
      // No resource of any kind makes a project-wide grant.
      for (const r of stage.registrations) expect(r.type).not.toMatch(/^gcp:projects\/iam/i)
    }
  })

  it('gives the function no access to the telemetry it is pushed, nor to the database through IAM', async () => {
    const runtime = account('dev', 'ingest')
    const granted = (await grantsOf(dev)).filter((g) => g.member === runtime)
    expect(granted.map((g) => g.on).sort()).toEqual([
      'fleetpipe-dev-alerts',
      'fleetpipe-dev-commands',
      'fleetpipe-dev-database-url',
    ])
    // Private IP and a password: no roles/cloudsql.client, which only the connectors and socket use.
    expect(granted.map((g) => g.role)).not.toContain('roles/cloudsql.client')
  })

  it('uses three accounts, named per stage within the 30 characters IAM allows', async () => {
    const emails = await Promise.all(Object.values(production.edge.accounts).map((a) => value(a.email)))
    expect(emails).toEqual([
      `fleetpipe-production-ingest@${PROJECT}.iam.gserviceaccount.com`,
      `fleetpipe-production-invoker@${PROJECT}.iam.gserviceaccount.com`,
      `fleetpipe-production-bridge@${PROJECT}.iam.gserviceaccount.com`,
    ])
    const long = serviceAccountId({ app: 'fleetpipe', stage: 'pr-1234-feature-x' }, 'invoker')
    expect(long).toMatch(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/)
    expect(long).not.toBe(serviceAccountId({ app: 'fleetpipe', stage: 'pr-1234-feature-y' }, 'invoker'))
  })
})
