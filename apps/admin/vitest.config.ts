import { baseVitestConfig } from '@tdk/vitest-config';
import { defineConfig, mergeConfig } from 'vitest/config';

// One browser and one server for the end-to-end suite: its files run one after another.
export default mergeConfig(baseVitestConfig, defineConfig({ test: { fileParallelism: false } }));
