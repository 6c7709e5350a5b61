export {
  type CommandOutcome,
  FIRMWARE_VERSION,
  type Label,
  type OverheatLabel,
  SimDevice,
  type SimDeviceOptions,
} from './device.ts'
export {
  countFaults,
  FAULT_KINDS,
  FaultInjector,
  type FaultInjectorOptions,
  type FaultKind,
  type FaultLabel,
  type FaultRule,
  matchesSelector,
  type Outgoing,
  parseFaults,
} from './faults.ts'
export {
  DEFAULT_ANOMALY_CHANCE,
  type Fleet,
  type FleetOptions,
  type FleetStats,
  startFleet,
} from './fleet.ts'
export { LatencyHistogram } from './latency.ts'
export {
  AWS_ALPN,
  type AwsProfileOptions,
  AZURE_API_VERSION,
  type AzureProfileOptions,
  awsProfile,
  azureProfile,
  type ConnectionProfile,
  type DeviceEndpoint,
  localProfile,
  PROFILE_NAMES,
  type ProfileName,
  propertyBag,
} from './profiles.ts'
export { Random, seedFor } from './random.ts'
export { sasSignature, sasToken } from './sas.ts'
export { type Emit, FleetScheduler, type SchedulerOptions } from './scheduler.ts'
export { type MotorMetrics, type MotorProfile, motorMetrics, motorProfile, motorRunning } from './sensors.ts'
export { connectDevice, type DeviceLink, type DeviceLinkOptions, parseCommand } from './transport.ts'
