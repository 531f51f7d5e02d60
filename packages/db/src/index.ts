export { connectDatabase, type DatabaseHandle, type DatabaseTarget } from './connect';
export { type MigrationReport, migrateToLatest } from './migrate';
export type { Database } from './schema';
