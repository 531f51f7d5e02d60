export { connectDatabase, type DatabaseHandle, type DatabaseTarget } from './connect';
export { isUniqueViolation } from './errors';
export { type MigrationReport, migrateToLatest } from './migrate';
export type { AuditLogTable, Database, SessionTable, UserTable } from './schema';
