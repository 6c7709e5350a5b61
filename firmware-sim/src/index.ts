export {
  type CommandOutcome,
  FIRMWARE_VERSION,
  type Label,
  SimDevice,
  type SimDeviceOptions,
} from './device.ts'
export {
  DEFAULT_ANOMALY_CHANCE,
  type Fleet,
  type FleetOptions,
  type FleetStats,
  startFleet,
} from './fleet.ts'
export { Random, seedFor } from './random.ts'
export { type Emit, FleetScheduler, type SchedulerOptions } from './scheduler.ts'
export { type MotorMetrics, type MotorProfile, motorMetrics, motorProfile, motorRunning } from './sensors.ts'
export { connectDevice, type DeviceLink, type DeviceLinkOptions, parseCommand } from './transport.ts'
