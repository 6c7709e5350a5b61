import { type DeviceTypeSpec, parseRules, type RuleInput } from './rules.ts'

/**
 * The simulator's device types, told apart by id (first match wins): what a fleet that names its
 * devices by type would write in its rules file.
 */
export const defaultDeviceTypes: DeviceTypeSpec[] = [
  { name: 'env', devices: 'esp32-env-*' },
  { name: 'power', devices: 'esp32-pwr-*' },
  { name: 'motor', devices: '*' },
]

/**
 * Shipped for the simulator's device types, so a local run shows real detections: hard limits with
 * hysteresis where the physics gives one (a winding past 80 °C, a rail below 11 V), learned
 * baselines where it does not (a spike, a drift), a stuck sensor, and a silent device.
 */
export const defaultRulesInput: RuleInput[] = [
  {
    id: 'over-temperature',
    kind: 'threshold',
    deviceType: 'motor',
    metric: 'temperature',
    above: 80,
    clear: 75,
    severity: 'critical',
    command: { name: 'safe-mode' },
  },
  {
    id: 'high-vibration',
    kind: 'threshold',
    deviceType: 'motor',
    metric: 'vibration',
    above: 1.5,
    clear: 1.0,
    for: '10s',
    severity: 'warning',
  },
  {
    id: 'temperature-spike',
    kind: 'spike',
    deviceType: 'motor',
    metric: 'temperature',
    direction: 'up',
    cooldown: '10m',
    severity: 'warning',
  },
  {
    id: 'temperature-drift',
    kind: 'zscore',
    deviceType: 'motor',
    metric: 'temperature',
    z: 6,
    clearFor: '2m',
    cooldown: '5m',
    severity: 'warning',
  },
  {
    id: 'temperature-rising',
    kind: 'rate',
    deviceType: 'motor',
    metric: 'temperature',
    rise: 1.5,
    per: '1m',
    for: '30s',
    clearFor: '2m',
    severity: 'warning',
  },
  {
    id: 'temperature-stuck',
    kind: 'flatline',
    deviceType: 'motor',
    metric: 'temperature',
    unchangedReadings: 5,
    severity: 'warning',
  },
  {
    id: 'low-battery',
    kind: 'threshold',
    deviceType: 'env',
    metric: 'battery',
    below: 3.4,
    clear: 3.5,
    for: '1m',
    severity: 'warning',
  },
  {
    id: 'supply-brownout',
    kind: 'threshold',
    deviceType: 'power',
    metric: 'voltage',
    below: 11,
    clear: 11.4,
    severity: 'critical',
  },
  // Quiet until retraining promotes a motor model (`fleetpipe retrain`, or a dataset in the bucket).
  {
    id: 'motor-model',
    kind: 'model-score',
    deviceType: 'motor',
    clearFor: '1m',
    cooldown: '10m',
    severity: 'warning',
  },
  { id: 'device-silent', kind: 'heartbeat', after: '30s', cooldown: '5m', severity: 'warning' },
]

export const defaultRules = parseRules(defaultRulesInput, defaultDeviceTypes)
