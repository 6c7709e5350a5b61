/**
 * The IoT policy for every device certificate: a thing may connect only as itself, publish only its
 * own telemetry and status, and subscribe to and receive only its own commands. IoT policies take
 * no `Sid`, so the statements are named in comments.
 * https://docs.aws.amazon.com/iot/latest/developerguide/iot-policies.html
 */
import * as pulumi from '@pulumi/pulumi'
import {
  type Aws,
  type AwsContext,
  type PolicyStatement,
  physicalName,
  policyDocument,
  type StageArgs,
} from './common.ts'

/**
 * IoT substitutes the thing attached to the connecting certificate at authorization time, so it must
 * reach IoT literally: `\${` keeps the template literal from interpolating it. It only works when the
 * client id equals the thing name.
 * https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html
 */
export const THING_NAME = `\${iot:Connection.Thing.ThingName}`

export function devicePolicyStatements(context: AwsContext): PolicyStatement[] {
  const arn = (resource: string) =>
    pulumi.interpolate`arn:${context.partition}:iot:${context.region}:${context.accountId}:${resource}`
  const own = `fleet/${THING_NAME}`
  return [
    {
      // Connect as itself.
      Effect: 'Allow',
      Action: ['iot:Connect'],
      Resource: [arn(`client/${THING_NAME}`)],
      // Only a certificate attached to a thing gets a thing name to connect as.
      Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
    },
    {
      // Publish its own telemetry and status.
      Effect: 'Allow',
      Action: ['iot:Publish'],
      Resource: [arn(`topic/${own}/telemetry`), arn(`topic/${own}/status`)],
    },
    {
      // Retain its own status: the birth message and the last will are retained, and a retained
      // publish (a will too, checked at connect) needs iot:RetainPublish besides iot:Publish.
      // https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html#mqtt-retain
      Effect: 'Allow',
      Action: ['iot:RetainPublish'],
      Resource: [arn(`topic/${own}/status`)],
    },
    {
      // Subscribe to its own commands: iot:Subscribe is checked against a topic filter, iot:Receive
      // against the topic.
      // https://docs.aws.amazon.com/iot/latest/developerguide/iot-policy-actions.html
      Effect: 'Allow',
      Action: ['iot:Subscribe'],
      Resource: [arn(`topicfilter/${own}/commands`)],
    },
    {
      // Receive its own commands.
      Effect: 'Allow',
      Action: ['iot:Receive'],
      Resource: [arn(`topic/${own}/commands`)],
    },
  ]
}

export function devicePolicy(aws: Aws, args: StageArgs & { context: AwsContext }) {
  return new aws.iot.Policy('DevicePolicy', {
    name: physicalName(args, 'device'),
    policy: policyDocument(devicePolicyStatements(args.context)),
  })
}
