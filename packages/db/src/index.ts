export { createChainSnapshotStore } from './chain-snapshot-store';
export { connectDatabase, type DatabaseHandle, type DatabaseTarget } from './connect';
export { isDatabaseUnavailable, isUniqueViolation, toBigInt } from './driver';
export { type MigrationReport, migrateToLatest } from './migrate';
export { prepared } from './prepared';
export type {
  AgentTable,
  ApiKeyTable,
  AuditLogTable,
  BillingAccountTable,
  BillingPeriodTable,
  CallStatus,
  CallTable,
  Database,
  Int8,
  LedgerMovementTable,
  LedgerPostingTable,
  MeterReportTable,
  SessionTable,
  UserTable,
  WalletKind,
  WalletTable,
} from './schema';
export { createTettoStore } from './tetto-store';
