import type { AlertSink, AlertTransition } from '@fleetpipe/core'

/** Delivers each transition to every sink in turn; a failing sink fails the delivery, so it is retried. */
/** Alert transitions as lines for people watching a local run. */
export class LogAlertSink implements AlertSink {
  constructor(private readonly write: (line: string) => void) {}

  async publish(transitions: readonly AlertTransition[]): Promise<void> {
    for (const t of transitions) this.write(formatTransition(t))
  }
}

export function formatTransition(t: AlertTransition): string {
  const a = t.alert
  const command = t.command ? ` → command ${t.command.command}` : ''
  return `alert ${t.type.padEnd(9)} ${a.severity.padEnd(8)} ${a.deviceId} ${a.ruleId}: ${t.message}${command}`
}
