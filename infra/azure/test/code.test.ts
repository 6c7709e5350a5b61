import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import * as pulumi from '@pulumi/pulumi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppPackage, buildAzureApp } from '../code.ts'

let dir: string
let built: AppPackage

beforeAll(async () => {
  // Outside the repository: no node_modules above it, as on Azure.
  dir = await mkdtemp(path.join(tmpdir(), 'fleetpipe-azure-app-'))
  built = await buildAzureApp(dir)
}, 60_000)

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/**
 * Imports the bundle in a fresh Node process that provides `@azure/functions-core` the way the
 * Functions worker does (answering `require` for it), and prints what the app registered.
 */
const LOAD_AS_THE_WORKER_DOES = `
const Module = require('node:module')
const registered = []
const core = {
  version: '3.12.0',
  hostVersion: '4.1041.0',
  registerFunction: (metadata) => { registered.push(metadata); return { dispose() {} } },
  setProgrammingModel: () => {},
  registerHook: () => ({ dispose() {} }),
  getProgrammingModel: () => undefined,
  log: () => {},
  Disposable: class { dispose() {} },
}
Module.prototype.require = new Proxy(Module.prototype.require, {
  apply: (target, self, args) => (args[0] === '@azure/functions-core' ? core : Reflect.apply(target, self, args)),
})
import(process.argv[1]).then(() => console.log(JSON.stringify(registered)))
`

describe('the function app package', () => {
  it('holds the bundle, package.json and host.json, and nothing else', async () => {
    expect(built.files).toEqual(['main.js', 'host.json', 'package.json'])
    expect((await readdir(dir)).sort()).toEqual(['host.json', 'main.js', 'package.json'])
    expect(built.archive).toBeInstanceOf(pulumi.asset.AssetArchive)
    const assets = await (built.archive as pulumi.asset.AssetArchive).assets
    expect(Object.keys(assets).sort()).toEqual(['host.json', 'main.js', 'package.json'])
  })

  it('points the host at the bundle as an ES module, with no dependencies to install', async () => {
    const json = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'))
    expect(json).toMatchObject({ type: 'module', main: 'main.js' })
    expect(json.dependencies).toBeUndefined()
  })

  it('asks for the 4.x extension bundle (Event Hubs) and batches of 100', async () => {
    const json = JSON.parse(await readFile(path.join(dir, 'host.json'), 'utf8'))
    expect(json.version).toBe('2.0')
    expect(json.extensionBundle).toEqual({
      id: 'Microsoft.Azure.Functions.ExtensionBundle',
      version: '[4.*, 5.0.0)',
    })
    expect(json.extensions.eventHubs.maxEventBatchSize).toBe(100)
  })

  it('bundles @azure/functions and leaves only @azure/functions-core to the worker, through require', async () => {
    const bundle = await readFile(path.join(dir, 'main.js'), 'utf8')
    expect(bundle.startsWith("import { createRequire } from 'node:module';")).toBe(true)
    // Booleans, not matchers: a failure would print the whole 2 MB bundle.
    // esbuild calls `require` through its shim, renamed by minification: `K("@azure/functions-core")`.
    expect(/[\w$]+\("@azure\/functions-core"\)/.test(bundle)).toBe(true)
    expect(/(from|import)\s*"@azure\/functions(-core)?"/.test(bundle)).toBe(false)
    // The library itself is inside: its programming model's name is in the bundle.
    expect(bundle.includes('@azure/functions')).toBe(true)
  })

  it('registers the ingest trigger on the IoT hub settings, and the sweep timer, when the worker loads it', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-e', LOAD_AS_THE_WORKER_DOES, pathToFileURL(path.join(dir, 'main.js')).href],
      { cwd: dir },
    )
    const registered = JSON.parse(stdout) as { name: string; bindings: Record<string, object> }[]
    expect(registered.map((r) => r.name)).toEqual(['ingest', 'sweep'])
    expect(Object.values(registered[0]?.bindings ?? {})).toEqual([
      expect.objectContaining({
        type: 'eventHubTrigger',
        direction: 'in',
        connection: 'IOTHUB_EVENTS',
        eventHubName: '%EVENTHUB_NAME%',
        consumerGroup: '%EVENTHUB_CONSUMER_GROUP%',
        cardinality: 'many',
      }),
    ])
    // A timer needs no resource of its own: the host runs it from the package, and keeps its
    // schedule status and lock in host storage (AzureWebJobsStorage), which the app already has.
    expect(Object.values(registered[1]?.bindings ?? {})).toEqual([
      expect.objectContaining({ type: 'timerTrigger', direction: 'in', schedule: '0 * * * * *' }),
    ])
  }, 30_000)

  it("hashes the files' names and bytes", async () => {
    const hash = createHash('sha256')
    for (const file of built.files) {
      const bytes = await readFile(path.join(dir, file))
      hash.update(`${file}\0${createHash('sha256').update(bytes).digest('hex')}\n`)
    }
    expect(built.sha256).toBe(hash.digest('hex'))
  })
})
