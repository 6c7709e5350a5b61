/** Errors the core raises. Adapters wrap their platform's errors in these where a caller must tell them apart. */

export class FleetpipeError extends Error {
  override name = 'FleetpipeError'
}

/** A failure worth retrying: throttling, a 5xx, a timeout, a lost connection. */
export class TransientError extends FleetpipeError {
  override name = 'TransientError'
}

/** Rule state kept changing under us: another invocation is working on the same devices. */
export class StateConflictError extends TransientError {
  override name = 'StateConflictError'
}

/** Bad configuration; the message names the setting and what to do. */
export class ConfigError extends FleetpipeError {
  override name = 'ConfigError'
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return String(error)
}
