/**
 * While `fleetpipe dev` owns the embedded database files, it serves them over the PostgreSQL
 * protocol and leaves a note in the data folder; other commands read the note and connect there.
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

interface Note {
  url: string
  pid: number
}

const noteFile = (dataDir: string) => join(dataDir, 'server.json')

export async function announceServer(dataDir: string, url: string): Promise<() => Promise<void>> {
  const file = noteFile(dataDir)
  await writeFile(file, JSON.stringify({ url, pid: process.pid } satisfies Note))
  return () => rm(file, { force: true })
}

/** The URL of a running `dev` serving this data folder, if there is one. */
export async function runningServer(dataDir: string): Promise<string | undefined> {
  let note: Note
  try {
    note = JSON.parse(await readFile(noteFile(dataDir), 'utf8')) as Note
  } catch {
    return undefined
  }
  try {
    process.kill(note.pid, 0)
    return note.url
  } catch {
    return undefined
  }
}
