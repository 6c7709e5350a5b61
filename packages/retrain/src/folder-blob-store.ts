/** A folder as a bucket: `fleetpipe dev`'s local bucket, where a dataset is dropped with `cp`. */
import { createReadStream } from 'node:fs'
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import type { BlobInfo, BlobStore } from './blob.ts'

export class FolderBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  async get(key: string) {
    const path = this.#path(key)
    const info = await this.#info(key, path)
    if (!info) return undefined
    return { ...info, body: createReadStream(path) as AsyncIterable<Uint8Array> }
  }

  /** Written to a temporary file and renamed, so a reader (or the watcher) never sees half an object. */
  async put(key: string, body: string): Promise<void> {
    const path = this.#path(key)
    await mkdir(dirname(path), { recursive: true })
    const temporary = join(dirname(path), `.${process.pid}-${Date.now()}.tmp`)
    await writeFile(temporary, body)
    await rename(temporary, path)
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    const found: BlobInfo[] = []
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue
        const path = join(dir, entry.name)
        if (entry.isDirectory()) await walk(path)
        else if (entry.isFile()) {
          const key = relative(this.root, path).split(sep).join('/')
          const info = key.startsWith(prefix) ? await this.#info(key, path) : undefined
          if (info) found.push(info)
        }
      }
    }
    // Only the folders the prefix can be in.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : ''
    await walk(join(this.root, ...folder.split('/').filter(Boolean)))
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  #path(key: string): string {
    const parts = key.split('/')
    if (parts.some((part) => part === '' || part === '.' || part === '..'))
      throw new Error(`not an object key: ${key}`)
    return join(this.root, ...parts)
  }

  async #info(key: string, path: string): Promise<BlobInfo | undefined> {
    const stats = await stat(path).catch(() => undefined)
    if (!stats?.isFile()) return undefined
    return {
      key,
      size: stats.size,
      etag: `"${stats.size}-${Math.floor(stats.mtimeMs)}"`,
      lastModified: stats.mtimeMs,
    }
  }
}
