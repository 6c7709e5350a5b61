/**
 * The function app's package: functions/azure bundled by esbuild into one ES module, with the
 * package.json and host.json the Functions host reads. Nothing else ships: no node_modules.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import * as pulumi from '@pulumi/pulumi'

/** The app's entry (it registers `ingest` and the `sweep` timer with the host), relative to the repository root. */
export const APP_ENTRY = 'functions/azure/src/main.ts'
export const BUNDLE = 'main.js'

/**
 * `@azure/functions-core` is not on npm: the Node.js worker provides it, by answering `require`
 * for that name (Module.prototype.require), so it must stay external, and be reached through
 * `require`, never `import`. `pg-native` is only loaded when `pg.native` is used, which nothing does,
 * and PGlite only when the store is opened without a URL, which the app's configuration forbids.
 * Everything else, `@azure/functions` included, is bundled: the archive needs no node_modules.
 * https://github.com/Azure/azure-functions-nodejs-library/issues/201
 */
export const EXTERNAL = ['@azure/functions-core', 'pg-native', '@electric-sql/pglite']

/**
 * The bundle is an ES module, and the CommonJS packages inside it (`@azure/functions`,
 * `azure-iothub`, `pg`) call `require`, which an ES module lacks: esbuild's shim uses this one.
 * Through it, `require('@azure/functions-core')` reaches the worker's hook.
 */
const REQUIRE_SHIM =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"

/**
 * The worker imports `main` as an ES module because of `"type": "module"` (a `.js` file otherwise
 * goes to `require`). No dependencies: everything is in the bundle.
 * https://learn.microsoft.com/azure/azure-functions/functions-reference-node#ecmascript-modules
 */
export const APP_PACKAGE_JSON = {
  name: 'fleetpipe-functions-azure',
  version: '0.1.0',
  private: true,
  type: 'module',
  main: BUNDLE,
}

/**
 * Extension bundle 4.x: Flex Consumption requires `[4.0.0, 5.0.0)` or later for non-.NET apps; it
 * brings the Event Hubs extension 5.x. Batches of up to 100 events, checkpointed after each batch:
 * one core call per batch, as functions/azure is written for.
 * https://learn.microsoft.com/azure/azure-functions/functions-bindings-event-hubs#hostjson-settings
 */
export const HOST_JSON = {
  version: '2.0',
  extensionBundle: { id: 'Microsoft.Azure.Functions.ExtensionBundle', version: '[4.*, 5.0.0)' },
  extensions: { eventHubs: { maxEventBatchSize: 100, batchCheckpointFrequency: 1 } },
}

/**
 * Loaded when a build runs, so importing infra/azure for its resources does not load esbuild; and
 * by a name that is not a literal, so that bundlers leave the import alone (sst bundles
 * sst.config.ts and what it imports, and esbuild's API cannot run from inside a bundle).
 */
const ESBUILD: string = 'esbuild'

export interface AppPackage {
  /** The package's files, which Pulumi zips when it uploads the blob. */
  archive: pulumi.asset.Archive
  /** Over the files' names and bytes: changes exactly when the package does. */
  sha256: string
  dir: string
  files: string[]
}

/**
 * Bundles functions/azure into `outDir` (created if missing; only the package's own files are
 * written and shipped). The entry is resolved from the working directory, the repository root when
 * sst or vitest run.
 *
 * @example
 * const code = await buildAzureApp('.fleetpipe/azure-app')
 * azureEdge(azurenative, { ...stage, location: 'westeurope', code, databasePassword })
 */
export async function buildAzureApp(outDir: string, options: { entry?: string } = {}): Promise<AppPackage> {
  const { build } = (await import(ESBUILD)) as typeof import('esbuild')
  const dir = path.resolve(outDir)
  await mkdir(dir, { recursive: true })
  await build({
    entryPoints: [path.resolve(options.entry ?? APP_ENTRY)],
    outfile: path.join(dir, BUNDLE),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    // ES module builds of dependencies first: smaller (zod's locales stay out).
    mainFields: ['module', 'main'],
    external: EXTERNAL,
    banner: { js: REQUIRE_SHIM },
    logLevel: 'warning',
  })
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(APP_PACKAGE_JSON, null, 2)}\n`)
  await writeFile(path.join(dir, 'host.json'), `${JSON.stringify(HOST_JSON, null, 2)}\n`)

  const files = [BUNDLE, 'host.json', 'package.json']
  const hash = createHash('sha256')
  for (const file of files) {
    const bytes = await readFile(path.join(dir, file))
    hash.update(`${file}\0${createHash('sha256').update(bytes).digest('hex')}\n`)
  }
  return {
    archive: new pulumi.asset.AssetArchive(
      Object.fromEntries(files.map((file) => [file, new pulumi.asset.FileAsset(path.join(dir, file))])),
    ),
    sha256: hash.digest('hex'),
    dir,
    files,
  }
}
