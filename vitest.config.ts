import { defineConfig } from 'vitest/config'

// Tiers by folder: unit (no network), integration (a real broker and database on loopback),
// e2e (the CLI as a user runs it). `npm test` runs all three on embedded parts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'packages/*/test/**/*.test.ts',
            'functions/*/test/**/*.test.ts',
            'infra/*/test/**/*.test.ts',
            'firmware-sim/test/**/*.test.ts',
          ],
        },
      },
      {
        // One file at a time: against a shared Mosquitto, files would see each other's devices.
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/conformance/**/*.test.ts'],
          testTimeout: 30_000,
          // Opening an embedded database on a busy 2-core machine can take longer than the default 10 s.
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
