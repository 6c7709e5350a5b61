import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUNDLE_FILE, buildGcpSource, RUNTIME_DEPENDENCIES } from '../code.ts'

const functionPackage = JSON.parse(readFileSync('functions/gcp/package.json', 'utf8')) as {
  dependencies: Record<string, string>
}

let dir: string
let out: string

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fleetpipe-gcp-source-'))
  out = await buildGcpSource(path.join(dir, 'source'))
}, 60_000)

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Where a runtime dependency is installed for functions/gcp: its package folder. */
function installed(name: string): string {
  const entry = createRequire(path.resolve('functions/gcp/package.json')).resolve(name)
  for (let folder = path.dirname(entry); folder !== path.dirname(folder); folder = path.dirname(folder)) {
    if (folder.endsWith(path.join('node_modules', name))) return folder
  }
  throw new Error(`${name} is not installed under a node_modules folder`)
}

describe('buildGcpSource', () => {
  it('writes the bundle and a package.json naming what the runtime installs, nothing else', async () => {
    expect(out).toBe(path.join(dir, 'source'))
    expect((await readdir(out)).sort()).toEqual([BUNDLE_FILE, 'package.json'])
    expect(JSON.parse(await readFile(path.join(out, 'package.json'), 'utf8'))).toEqual({
      type: 'module',
      main: 'index.mjs',
      dependencies: {
        '@google-cloud/functions-framework':
          functionPackage.dependencies['@google-cloud/functions-framework'],
        '@google-cloud/pubsub': functionPackage.dependencies['@google-cloud/pubsub'],
      },
    })
  })

  it('bundles everything else into one module, minified, with the runtime dependencies left as imports', async () => {
    const bundle = await readFile(path.join(out, BUNDLE_FILE), 'utf8')
    const size = (await stat(path.join(out, BUNDLE_FILE))).size
    // The core, zod, pg and PGlite's JavaScript: about 0.75 MB; the Pub/Sub client would add 2.5 MB.
    expect(size).toBeGreaterThan(200_000)
    expect(size).toBeLessThan(1_500_000)
    expect(bundle.startsWith('import{createRequire as __fleetpipeCreateRequire}')).toBe(true)
    for (const name of RUNTIME_DEPENDENCIES) expect(bundle).toContain(`from"${name}"`)
    // pg-native is only required lazily, inside pg's `native` getter, and never installed.
    expect(bundle).not.toMatch(/(from|import)\s*"pg-native"/)
    expect(bundle).toContain('"pg-native"')
    expect(bundle).not.toMatch(/\b__dirname\b/)
  })

  it('registers `ingest` as a CloudEvent function that a raw Pub/Sub push reaches, once its dependencies are installed', async () => {
    await mkdir(path.join(out, 'node_modules', '@google-cloud'), { recursive: true })
    for (const name of RUNTIME_DEPENDENCIES)
      await symlink(installed(name), path.join(out, 'node_modules', name), 'dir')
    // In a process of its own, as the runtime loads it: the signature the bundle registered in the
    // framework's registry, a POST of a raw push body, and the answer. Without FLEETPIPE_* the handler cannot wire itself and throws,
    // which the framework answers with 500: proof the event reached the handler.
    const script = `
      import { createRequire } from 'node:module'
      await import('./${BUNDLE_FILE}')
      const { getTestServer } = await import('@google-cloud/functions-framework/testing')
      const require = createRequire(import.meta.url)
      const framework = require.resolve('@google-cloud/functions-framework')
      const registry = require(framework.replace(/index\\.js$/, 'function_registry.js'))
      const { signatureType } = registry.getRegisteredFunction('ingest')
      const server = getTestServer('ingest')
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
      const message = { data: Buffer.from('{}').toString('base64'), attributes: { mqttTopic: 'fleet/d1/telemetry' }, messageId: '1', publishTime: new Date().toISOString() }
      const response = await fetch('http://127.0.0.1:' + server.address().port + '/projects/p/topics/t', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message, subscription: 'projects/p/subscriptions/s' }),
      })
      console.log(JSON.stringify({ signatureType, status: response.status }))
      server.closeAllConnections()
      server.close()
    `
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('FLEETPIPE_')),
    )
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: out,
      env,
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(child.status, child.stderr).toBe(0)
    expect(JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}')).toEqual({
      signatureType: 'cloudevent',
      status: 500,
    })
    expect(child.stderr).toContain('FLEETPIPE_STAGE: must be set')
  }, 60_000)

  it('refuses to empty the repository it builds from', async () => {
    await expect(buildGcpSource('.', { root: dir })).rejects.toThrow(/folder of its own/)
    await expect(buildGcpSource('..', { root: dir })).rejects.toThrow(/folder of its own/)
  })
})
