import { baseVitestConfig } from '@tdk/vitest-config';

export default baseVitestConfig;
