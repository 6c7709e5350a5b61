import { beforeAll, describe, expect, it } from 'vitest'
import { FLEX_DEPRECATED_SETTINGS } from '../function-app.ts'
import { buildStages, inputOf, PACKAGE_SHA256, registrationOf, type Stage, value } from './_mocks.ts'

let dev: Stage
let production: Stage

beforeAll(async () => {
  ;({ dev, production } = await buildStages())
})

describe('the function app', () => {
  it('runs on a Linux Flex Consumption plan (FC1)', async () => {
    for (const stage of [dev, production]) {
      const { plan, app } = stage.edge.app
      expect(await value(plan.sku)).toEqual({ name: 'FC1', tier: 'FlexConsumption' })
      expect(await value(plan.kind)).toBe('functionapp')
      expect(await value(plan.reserved)).toBe(true)
      expect(await value(app.kind)).toBe('functionapp,linux')
      expect(await value(app.serverFarmId)).toBe(await value(plan.id))
      expect(await value(app.httpsOnly)).toBe(true)
      expect(await value(app.identity)).toMatchObject({ type: 'SystemAssigned' })
    }
  })

  it('runs Node.js 22, scaled to at most one instance per partition', async () => {
    const config = async (stage: Stage) => value(stage.edge.app.app.functionAppConfig)
    expect((await config(dev))?.runtime).toEqual({ name: 'node', version: '22' })
    expect((await config(dev))?.scaleAndConcurrency).toEqual({
      instanceMemoryMB: 512,
      maximumInstanceCount: 2,
    })
    expect((await config(production))?.runtime).toEqual({ name: 'node', version: '22' })
    expect((await config(production))?.scaleAndConcurrency).toEqual({
      instanceMemoryMB: 2048,
      maximumInstanceCount: 8,
    })
  })

  it('reads its package from a blob container of its storage account, with its own identity', async () => {
    const { storage, app } = dev.edge.app
    const account = await value(storage.name)
    expect((await value(app.functionAppConfig))?.deployment).toEqual({
      storage: {
        type: 'blobContainer',
        value: `https://${account}.blob.core.windows.net/app-package`,
        authentication: { type: 'SystemAssignedIdentity' },
      },
    })
  })

  it('uploads the package as released-package.zip into that container', async () => {
    const { packageBlob, container, storage } = dev.edge.app
    expect(await inputOf(packageBlob, 'blobName')).toBe('released-package.zip')
    expect(await inputOf(packageBlob, 'containerName')).toBe(await value(container.name))
    expect(await inputOf(packageBlob, 'accountName')).toBe(await value(storage.name))
    expect(await value(packageBlob.contentType)).toBe('application/zip')
    expect(await value(container.publicAccess)).toBe('None')
    // The archive the program was given, as the engine receives it (Pulumi zips it on upload).
    expect(await inputOf(packageBlob, 'source')).toEqual({
      __pulumiArchive: true,
      assets: { 'main.js': { __pulumiAsset: true, text: 'export {}\n' } },
    })
  })

  it('keeps the storage account private and TLS 1.2 only, named within its 24 characters', async () => {
    for (const stage of [dev, production]) {
      const { storage } = stage.edge.app
      expect(await value(storage.allowBlobPublicAccess)).toBe(false)
      expect(await value(storage.minimumTlsVersion)).toBe('TLS1_2')
      expect(await value(storage.enableHttpsTrafficOnly)).toBe(true)
      expect(await value(storage.name)).toMatch(/^[a-z0-9]{3,24}$/)
    }
    expect(await value(production.edge.app.storage.name)).toMatch(/^fleetpipeproductio[0-9a-f]{6}$/)
  })

  it('uses identity-based host storage, restarts on new code, and sets no setting Flex Consumption refuses', async () => {
    for (const stage of [dev, production]) {
      const settings = (await value(stage.edge.app.settings.properties)) ?? {}
      expect(settings.AzureWebJobsStorage__accountName).toBe(await value(stage.edge.app.storage.name))
      expect(settings).not.toHaveProperty('AzureWebJobsStorage')
      expect(settings.APP_PACKAGE_SHA256).toBe(PACKAGE_SHA256)
      for (const name of FLEX_DEPRECATED_SETTINGS) expect(settings).not.toHaveProperty(name)
      expect(Object.keys(settings).filter((name) => name.startsWith('WEBSITE_'))).toEqual([])
    }
  })

  it('sets its settings once the package is uploaded and its storage role granted', async () => {
    const settings = registrationOf(dev, 'azure-native:web:WebAppApplicationSettings', 'IngestAppSettings')
    expect(settings.dependencies).toContain(await value(dev.edge.app.packageBlob.urn))
    expect(settings.dependencies).toContain(await value(dev.edge.roles.storageBlobDataOwner.urn))
    expect(settings.dependencies).toContain(await value(dev.edge.iotHub.consumerGroup.urn))
    expect(settings.dependencies).toContain(await value(dev.edge.app.app.urn))
  })
})
