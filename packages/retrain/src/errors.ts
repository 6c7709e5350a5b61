/**
 * Errors the retraining pipeline raises. Their `name` is what the state machine's Retry and Catch
 * match (a Lambda's `errorType`, the local interpreter's `Error`), so names are part of the contract:
 * a DatasetError is never retried, a TransientError (from the core) is.
 */
import { FleetpipeError } from '@fleetpipe/core'

/** The dataset cannot be trained on: where (line, field) and what, for the person who dropped it. */
export class DatasetError extends FleetpipeError {
  override name = 'DatasetError'
  constructor(
    message: string,
    /** 1-based line in the file; absent for a problem with the whole dataset. */
    readonly line?: number,
    options?: ErrorOptions,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`, options)
  }
}

/** A state machine definition or execution the local interpreter cannot run. */
export class AslError extends FleetpipeError {
  override name = 'AslError'
}
