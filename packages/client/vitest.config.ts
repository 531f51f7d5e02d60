import { baseVitestConfig } from '@tdk/vitest-config';
import { defineConfig, mergeConfig } from 'vitest/config';

export default mergeConfig(
  baseVitestConfig,
  // One build and one real server for every test file: see test/setup.ts.
  defineConfig({ test: { globalSetup: ['test/setup.ts'] } }),
);
