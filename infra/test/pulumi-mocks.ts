/**
 * What every cloud's Pulumi mock tests share: recording each resource registration with the options
 * Pulumi would send the engine (`protect`, `retainOnDelete`, dependencies), which the mocks'
 * `newResource` never sees; reading outputs; and finding the resources in a returned structure.
 * Each cloud keeps its own `setMocks` answers in infra/<cloud>/test/_mocks.ts.
 */
import * as pulumi from '@pulumi/pulumi'

export interface Registration {
  type: string
  name: string
  protect: boolean
  retainOnDelete: boolean
  /** URNs of the resources it waits for (explicit `dependsOn` and inputs). */
  dependencies: string[]
}

interface RegisterResourceRequest {
  getType(): string
  getName(): string
  getProtect(): boolean | undefined
  getRetainondelete(): boolean | undefined
  getDependenciesList(): string[]
}

/** Call after `pulumi.runtime.setMocks`: every registration from then on is pushed to `into`. */
export function recordRegistrations(into: Registration[]): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterResourceRequest, callback: unknown): void
  }
  const register = monitor.registerResource.bind(monitor)
  monitor.registerResource = (req, callback) => {
    into.push({
      type: req.getType(),
      name: req.getName(),
      protect: req.getProtect() ?? false,
      retainOnDelete: req.getRetainondelete() ?? false,
      dependencies: req.getDependenciesList(),
    })
    register(req, callback)
  }
}

/** An output's value (mocks run no preview, so every value is known). */
export function value<T>(input: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
  return new Promise((resolve) => pulumi.output(input).apply(resolve))
}

/** Every resource in a returned structure, found through plain objects and arrays. */
export function resourcesIn(tree: unknown, found: pulumi.Resource[] = []): pulumi.Resource[] {
  if (pulumi.Resource.isInstance(tree)) {
    found.push(tree)
  } else if (Array.isArray(tree)) {
    for (const item of tree) resourcesIn(item, found)
  } else if (tree !== null && typeof tree === 'object' && !pulumi.Output.isInstance(tree)) {
    for (const item of Object.values(tree)) resourcesIn(item, found)
  }
  return found
}
