/**
 * The function app's entry (package.json `main`): registers `ingest` (IoT Hub → Event Hub trigger →
 * core) with the Functions host.
 */
import { app } from '@azure/functions'
import { FUNCTION_NAME, ingestHandler, ingestTrigger } from './index.ts'

app.eventHub(FUNCTION_NAME, { ...ingestTrigger, handler: ingestHandler })
