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
