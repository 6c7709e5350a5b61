#!/usr/bin/env node
// fleetpipe is written in TypeScript; tsx runs it as it is, so there is no build step to forget.
import { register } from 'tsx/esm/api'

register()
const { run } = await import('../src/cli.ts')
await run(process.argv.slice(2))
