import { FleetpipeError } from '@fleetpipe/core'

/**
 * The receiver refused the alert (a 4xx other than 408 and 429, or a redirect): trying again will
 * not help until its configuration or ours changes, so it is not retried here.
 */
export class WebhookRejectedError extends FleetpipeError {
  override name = 'WebhookRejectedError'

  constructor(
    readonly status: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}
