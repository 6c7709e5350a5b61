/** Sensor models of an ESP32 motor node: a temperature probe, an accelerometer's RMS and a current clamp. */
import type { Random } from './random.ts'

const DAY_MS = 24 * 60 * 60 * 1000
/** Ambient temperature peaks mid-afternoon (UTC): a sine shifted by 9 h crests at 15:00. */
const DAILY_PEAK_SHIFT_MS = 9 * 60 * 60 * 1000

export type MotorMetrics = { temperature: number; vibration: number; current: number }

/** What makes one node differ from its neighbours; drawn once per device. */
export interface MotorProfile {
  baseTemperature: number
  dailyAmplitude: number
  vibration: number
  dutyPeriodMs: number
  dutyOnFraction: number
  dutyPhaseMs: number
}

export const MOTOR_ON_CURRENT = 4
export const MOTOR_IDLE_CURRENT = 0.3

export function motorProfile(random: Random): MotorProfile {
  const dutyPeriodMs = Math.round(random.uniform(60_000, 300_000))
  return {
    baseTemperature: random.uniform(28, 40),
    dailyAmplitude: random.uniform(2, 5),
    vibration: random.uniform(0.12, 0.25),
    dutyPeriodMs,
    dutyOnFraction: random.uniform(0.4, 0.8),
    dutyPhaseMs: Math.floor(random.next() * dutyPeriodMs),
  }
}

export function motorRunning(profile: MotorProfile, ts: number): boolean {
  const position = (ts + profile.dutyPhaseMs) % profile.dutyPeriodMs
  return position < profile.dutyOnFraction * profile.dutyPeriodMs
}

/** The node's readings at `ts`, with sensor noise drawn from `random`. */
export function motorMetrics(profile: MotorProfile, ts: number, random: Random): MotorMetrics {
  const daily = Math.sin((2 * Math.PI * (ts - DAILY_PEAK_SHIFT_MS)) / DAY_MS)
  const temperature = profile.baseTemperature + profile.dailyAmplitude * daily + random.normal(0, 0.15)
  const vibration = profile.vibration + random.normal(0, 0.02)
  const current = motorRunning(profile, ts)
    ? random.normal(MOTOR_ON_CURRENT, 0.1)
    : random.normal(MOTOR_IDLE_CURRENT, 0.03)
  return {
    temperature: round(temperature, 2),
    vibration: round(Math.max(0.01, vibration), 3),
    current: round(Math.max(0, current), 2),
  }
}

/** A reading during an overheat episode: near the episode's peak, kept within 88–95 °C. */
export function overheatTemperature(peak: number, random: Random): number {
  return round(Math.min(95, Math.max(88, peak + random.normal(0, 0.6))), 2)
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}

/** An environment node (room or cabinet): temperature on a daily cycle, humidity, a LiPo battery. */
export type EnvMetrics = { temperature: number; humidity: number; battery: number }

export interface EnvProfile {
  baseTemperature: number
  dailyAmplitude: number
  baseHumidity: number
  /** %RH lost per °C above the base: warm air holds more water, so relative humidity falls. */
  humidityPerDegree: number
  batteryStart: number
  /** Volts lost per hour of running. */
  batteryDrainPerHour: number
  /** Set by the first reading: the battery drains from then on. */
  firstTs?: number
}

export function envProfile(random: Random): EnvProfile {
  return {
    baseTemperature: random.uniform(17, 26),
    dailyAmplitude: random.uniform(1.5, 4),
    baseHumidity: random.uniform(35, 60),
    humidityPerDegree: random.uniform(1.5, 3),
    batteryStart: random.uniform(3.85, 4.15),
    batteryDrainPerHour: random.uniform(0.002, 0.008),
  }
}

export function envMetrics(profile: EnvProfile, ts: number, random: Random): EnvMetrics {
  profile.firstTs ??= ts
  const daily = Math.sin((2 * Math.PI * (ts - DAILY_PEAK_SHIFT_MS)) / DAY_MS)
  const warmth = profile.dailyAmplitude * daily
  const temperature = profile.baseTemperature + warmth + random.normal(0, 0.1)
  const humidity = profile.baseHumidity - profile.humidityPerDegree * warmth + random.normal(0, 0.8)
  const hours = (ts - profile.firstTs) / 3_600_000
  const battery = profile.batteryStart - profile.batteryDrainPerHour * hours + random.normal(0, 0.004)
  return {
    temperature: round(temperature, 2),
    humidity: round(Math.min(100, Math.max(0, humidity)), 1),
    battery: round(Math.max(3, battery), 3),
  }
}

/**
 * A power node (a supply monitor with a backup cell): the 12 V rail sagging under the daily load,
 * the load current, and the backup battery on float charge.
 */
export type PowerMetrics = { voltage: number; current: number; battery: number }

export interface PowerProfile {
  nominalVoltage: number
  /** Ohms of cable and regulator: the rail sags by this times the load current. */
  sourceResistance: number
  baseLoad: number
  dailyLoad: number
  floatVoltage: number
}

export function powerProfile(random: Random): PowerProfile {
  return {
    nominalVoltage: random.uniform(12.1, 12.4),
    sourceResistance: random.uniform(0.03, 0.08),
    baseLoad: random.uniform(1.5, 3),
    dailyLoad: random.uniform(0.3, 1.2),
    floatVoltage: random.uniform(13.5, 13.8),
  }
}

export function powerMetrics(profile: PowerProfile, ts: number, random: Random): PowerMetrics {
  const daily = Math.sin((2 * Math.PI * (ts - DAILY_PEAK_SHIFT_MS)) / DAY_MS)
  const current = Math.max(0, profile.baseLoad + profile.dailyLoad * daily + random.normal(0, 0.05))
  const voltage = profile.nominalVoltage - profile.sourceResistance * current + random.normal(0, 0.02)
  const battery = profile.floatVoltage + random.normal(0, 0.01)
  return { voltage: round(voltage, 3), current: round(current, 2), battery: round(battery, 3) }
}
