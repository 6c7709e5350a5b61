export { type ClockOptions, DEFAULT_CLOCK, DeviceClock } from './clock.ts'
export {
  type CommandOutcome,
  FIRMWARE_VERSION,
  INTERVAL_BOUNDS_S,
  type Label,
  type OverheatLabel,
  SimDevice,
  type SimDeviceOptions,
} from './device.ts'
export {
  DEVICE_TYPE_INFO,
  DEVICE_TYPES,
  type DeviceType,
  type DeviceTypeInfo,
  deviceIdFor,
  type FaultMetric,
  type FleetMix,
  fleetMix,
} from './device-types.ts'
export {
  chooseShare,
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
  type FleetWindow,
  startFleet,
} from './fleet.ts'
export { LatencyHistogram } from './latency.ts'
export { DEFAULT_OUTBOX, Outbox, type OutboxEntry, type OutboxOptions } from './outbox.ts'
export {
  AWS_ALPN,
  type AwsProfileOptions,
  AZURE_API_VERSION,
  type AzureProfileOptions,
  ackTopic,
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
export {
  type EnvMetrics,
  type EnvProfile,
  envMetrics,
  envProfile,
  type MotorMetrics,
  type MotorProfile,
  motorMetrics,
  motorProfile,
  motorRunning,
  type PowerMetrics,
  type PowerProfile,
  powerMetrics,
  powerProfile,
} from './sensors.ts'
export {
  type BackoffOptions,
  DEFAULT_BACKOFF,
  DeviceSession,
  type MessageTag,
  reconnectDelay,
  type SessionEvents,
  type SessionOptions,
  type SessionState,
} from './session.ts'
export { connectDevice, type DeviceLink, type DeviceLinkOptions, parseCommand } from './transport.ts'
