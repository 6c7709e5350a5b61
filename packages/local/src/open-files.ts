/**
 * Whether an in-process fleet fits in the files this process may open. Each simulated device holds
 * a socket, and the embedded broker (a thread of this process) holds the other end: past the limit,
 * connections wait unaccepted and the fleet never finishes starting, saying nothing. Better to say
 * so before starting.
 */
import { readFile } from 'node:fs/promises'

/** Files a process needs besides the fleet's sockets: the store, the bridge, the served database. */
const HEADROOM = 256

/** The most files this process may open, where the platform says (Linux); undefined elsewhere. */
export async function openFileLimit(): Promise<number | undefined> {
  try {
    const limits = await readFile('/proc/self/limits', 'utf8')
    const match = /^Max open files\s+(\d+)/m.exec(limits)
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

/** Why `devices` simulated devices cannot run in this process, or undefined when they can. */
export function fleetTooLarge(devices: number, embeddedBroker: boolean, limit: number | undefined) {
  if (limit === undefined || devices === 0) return undefined
  const needed = devices * (embeddedBroker ? 2 : 1) + HEADROOM
  if (needed <= limit) return undefined
  const sockets = embeddedBroker
    ? "a socket a device, and the embedded broker's end of each"
    : 'a socket a device'
  return (
    `--devices ${devices} needs about ${needed} open files in this process (${sockets}), and it may open ` +
    `${limit} (ulimit -n): raise that limit, or run the fleet in a process of its own with fleetpipe sim`
  )
}
