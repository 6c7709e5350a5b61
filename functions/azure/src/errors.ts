/** Errors the Azure function raises. */
import { TransientError } from '@fleetpipe/core'

/**
 * Messages whose retries ran out could not be put in the dead-letter store either. The function
 * throws it so the host's retry policy runs the batch again instead of checkpointing past it.
 */
export class DeadLetterError extends TransientError {
  override name = 'DeadLetterError'
}
