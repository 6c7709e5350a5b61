/**
 * The function app's entry (package.json `main`): registers `ingest` (IoT Hub → Event Hub trigger →
 * core) and `sweep` (the heartbeat sweep, a timer once a minute) with the Functions host.
 */
import { app } from '@azure/functions'
import {
  FUNCTION_NAME,
  ingestHandler,
  ingestTrigger,
  SWEEP_FUNCTION_NAME,
  sweepHandler,
  sweepTrigger,
} from './index.ts'

app.eventHub(FUNCTION_NAME, { ...ingestTrigger, handler: ingestHandler })
app.timer(SWEEP_FUNCTION_NAME, { ...sweepTrigger, handler: sweepHandler })
