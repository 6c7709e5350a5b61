export { NOW, overheatAndCool } from '../../core/test/_fixtures.ts'

/** Retries without waiting. */
export const noWait = { sleep: async () => {} }

/** An error shaped as `@azure/core-rest-pipeline`'s RestError for an HTTP answer. */
export function restError(statusCode: number, message = `HTTP ${statusCode}`) {
  return Object.assign(new Error(message), { name: 'RestError', statusCode })
}

/** An error shaped as one of azure-iothub's error classes (they set `name`). */
export function iotHubError(name: string, message = name) {
  return Object.assign(new Error(message), { name })
}
