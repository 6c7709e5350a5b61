/**
 * The Event Grid topic alert transitions go to, one CloudEvent each (see
 * packages/azure/src/event-grid-alerts.ts); email, chat or on-call subscriptions are added per
 * stage, outside this program.
 */
import * as pulumi from '@pulumi/pulumi'
import { type AzureNative, type Placement, type StageArgs, uniqueName } from './common.ts'

/**
 * The topic takes CloudEvents 1.0, which is what `EventGridAlertSink` sends: a topic left on the
 * Event Grid schema refuses them.
 *
 * The function authenticates with the topic's access key (`FLEETPIPE_EVENTGRID_KEY`, read here
 * with listTopicSharedAccessKeys), because functions/azure builds its client with
 * `AzureKeyCredential`. The keyless alternative is the app's managed identity with the
 * `EventGrid Data Sender` role (d5a91429-5739-47e2-a06b-3470a27159e7) on this topic and a
 * `DefaultAzureCredential` in the client; `disableLocalAuth` could then turn the keys off.
 * https://learn.microsoft.com/azure/event-grid/authenticate-with-microsoft-entra-id
 */
export function alertTopic(azure: AzureNative, args: StageArgs & Placement) {
  const topic = new azure.eventgrid.Topic('AlertTopic', {
    resourceGroupName: args.resourceGroupName,
    location: args.location,
    topicName: uniqueName(args, 'alerts', args.resourceGroupId),
    inputSchema: 'CloudEventSchemaV1_0',
    minimumTlsVersionAllowed: '1.2',
    disableLocalAuth: false,
    publicNetworkAccess: 'Enabled',
  })
  const key = azure.eventgrid
    .listTopicSharedAccessKeysOutput({ resourceGroupName: args.resourceGroupName, topicName: topic.name })
    .apply((keys) => {
      if (!keys.key1) throw new Error('Event Grid topic has no access key')
      return keys.key1
    })
  return {
    topic,
    /** `https://{topic}.{region}-1.eventgrid.azure.net/api/events`. */
    endpoint: topic.endpoint,
    key: pulumi.secret(key),
  }
}
