/**
 * The function's code as Cloud Build takes it: functions/gcp bundled into one ES module with what
 * the runtime must install beside it named in a package.json, for `functionSource` to upload.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { build } from 'esbuild'
import functionPackage from '../../functions/gcp/package.json' with { type: 'json' }

/**
 * Installed by Cloud Build from the generated package.json rather than bundled:
 * - the functions-framework, because the runtime starts the copy in `node_modules` and looks the
 *   target up in that copy's registry, where the bundle's `cloudEvent('ingest', …)` must land;
 * - the Pub/Sub client, because google-gax and grpc-js read `.proto` and `.json` files relative to
 *   their own `__dirname` at run time, which no bundle carries.
 * https://cloud.google.com/functions/docs/writing/specifying-dependencies-nodejs
 */
export const RUNTIME_DEPENDENCIES = ['@google-cloud/functions-framework', '@google-cloud/pubsub'] as const

/**
 * pg loads `pg-native` only for `pg.native`, which nothing uses; the store opens PGlite only when
 * given no database URL, which the function's configuration requires. Neither is installed.
 */
const NEVER_LOADED = ['pg-native', '@electric-sql/pglite']

export const BUNDLE_FILE = 'index.mjs'

/**
 * CommonJS packages inside an ES module bundle call `require` for Node's built-ins; an ES module has
 * none, so the bundle makes one. https://github.com/evanw/esbuild/issues/1921
 */
const REQUIRE_SHIM = `import{createRequire as __fleetpipeCreateRequire}from'node:module';const require=__fleetpipeCreateRequire(import.meta.url);`

export function runtimePackageJson(): { type: 'module'; main: string; dependencies: Record<string, string> } {
  const declared: Record<string, string | undefined> = functionPackage.dependencies
  const dependencies: Record<string, string> = {}
  for (const name of RUNTIME_DEPENDENCIES) {
    const version = declared[name]
    if (!version) throw new Error(`functions/gcp/package.json does not depend on ${name}`)
    dependencies[name] = version
  }
  return { type: 'module', main: BUNDLE_FILE, dependencies }
}

export interface BuildOptions {
  /** The repository's root; by default the working directory, where `sst deploy` runs. */
  root?: string
}

/**
 * Writes `index.mjs` (functions/gcp/src/index.ts and everything it imports but the runtime
 * dependencies, minified for Node 22) and `package.json` to `outDir`, emptied first, and returns
 * `outDir`. Wrap it as `new pulumi.asset.FileArchive(dir)` for `gcpEdge`'s `code.archive`.
 *
 * @example
 * const dir = await buildGcpSource('.sst/gcp-ingest')
 */
export async function buildGcpSource(outDir: string, options: BuildOptions = {}): Promise<string> {
  const root = path.resolve(options.root ?? process.cwd())
  const out = path.resolve(root, outDir)
  if (!path.relative(out, root).startsWith('..')) {
    throw new Error(`buildGcpSource empties ${out} first: give it a folder of its own, not the repository`)
  }
  await rm(out, { recursive: true, force: true })
  await mkdir(out, { recursive: true })
  await build({
    entryPoints: [path.join(root, 'functions/gcp/src/index.ts')],
    outfile: path.join(out, BUNDLE_FILE),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    mainFields: ['module', 'main'],
    external: [...RUNTIME_DEPENDENCIES, ...NEVER_LOADED],
    banner: { js: REQUIRE_SHIM },
    logLevel: 'warning',
  })
  await writeFile(path.join(out, 'package.json'), `${JSON.stringify(runtimePackageJson(), null, 2)}\n`)
  return out
}
