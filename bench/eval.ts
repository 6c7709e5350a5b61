/**
 * `npm run bench`'s rules evaluation: fleetpipe's default rules against the seed's fixed thresholds
 * (current > 10 or temperature > 80, one alert per message) on the default labeled dataset — the
 * table `fleetpipe eval` prints. Target: fleetpipe above the baseline on F1, below it on false alerts.
 */
import { EvalConfigSchema, formatEval, runEval } from '../packages/local/src/eval.ts'

// The defaults as they are, whatever FLEETPIPE_* the shell holds: bench figures stay comparable.
const summary = await runEval(EvalConfigSchema.parse({}))
console.log(`\n${formatEval(summary)}`)
if (process.argv.includes('--json')) console.log(JSON.stringify(summary))
