import { defineConfig } from 'vitest/config';

/**
 * The one vitest setup every package shares: node environment, generous timeouts for I/O tests.
 * Plain JavaScript because config files load it straight from node_modules, untranspiled.
 */
export const baseVitestConfig = defineConfig({
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: one worker per core keeps PGlite instances from starving each other.
    maxWorkers: 2,
  },
});
