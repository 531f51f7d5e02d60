export { createTdk, type Tdk } from './compose';
export { type Config, ConfigError, loadConfig } from './config';
export { createLogger } from './logger';
