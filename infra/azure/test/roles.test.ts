import { beforeAll, describe, expect, it } from 'vitest'
import { BUILT_IN_ROLES, roleDefinitionId } from '../roles.ts'
import { buildStages, PRINCIPAL_ID, type Stage, SUBSCRIPTION, value } from './_mocks.ts'

let dev: Stage
let production: Stage

beforeAll(async () => {
  ;({ dev, production } = await buildStages())
})

const STORAGE_BLOB_DATA_OWNER = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'

describe('role assignments', () => {
  it("give the app's identity Storage Blob Data Owner on its storage account, and nothing else", async () => {
    for (const stage of [dev, production]) {
      const assignments = stage.registrations.filter(
        (r) => r.type === 'azure-native:authorization:RoleAssignment',
      )
      expect(assignments.map((r) => r.name)).toEqual(['IngestAppStorageBlobDataOwner'])
      const assignment = stage.edge.roles.storageBlobDataOwner
      expect(await value(assignment.roleDefinitionId)).toBe(
        `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${STORAGE_BLOB_DATA_OWNER}`,
      )
      expect(await value(assignment.scope)).toBe(await value(stage.edge.app.storage.id))
      expect(await value(assignment.principalId)).toBe(PRINCIPAL_ID)
      expect(await value(assignment.principalType)).toBe('ServicePrincipal')
    }
  })

  it('grant nothing at subscription or resource group scope', async () => {
    for (const stage of [dev, production]) {
      const scope = await value(stage.edge.roles.storageBlobDataOwner.scope)
      expect(scope).toMatch(
        new RegExp(
          `^/subscriptions/${SUBSCRIPTION}/resourceGroups/[^/]+/providers/Microsoft\\.Storage/storageAccounts/[a-z0-9]+$`,
        ),
      )
      expect(scope).not.toBe(await value(stage.edge.group.id))
    }
  })

  it('name built-in roles by their GUIDs', () => {
    expect(BUILT_IN_ROLES.storageBlobDataOwner).toBe(STORAGE_BLOB_DATA_OWNER)
    for (const id of Object.values(BUILT_IN_ROLES)) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    }
    expect(() => roleDefinitionId('/resourceGroups/rg', STORAGE_BLOB_DATA_OWNER)).toThrow(/subscription/)
  })
})
