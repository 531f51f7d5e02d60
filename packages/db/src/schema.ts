import type { ColumnType, Generated } from 'kysely';

/** Timestamps are written by the database and read back as Date. */
export type CreatedAt = ColumnType<Date, never, never>;
export type UpdatedAt = ColumnType<Date, Date | undefined, Date>;

/** Instance-wide facts that must survive restarts (e.g. when this installation was first started). */
export interface InstanceSettingTable {
  key: string;
  value: ColumnType<unknown, string, string>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface UserTable {
  id: string;
  email: string;
  password_hash: string;
  role: ColumnType<'customer' | 'admin', 'customer' | 'admin' | undefined>;
  tier: ColumnType<'free' | 'paid' | 'pro', 'free' | 'paid' | 'pro' | undefined>;
  status: ColumnType<'active' | 'suspended', 'active' | 'suspended' | undefined>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SessionTable {
  /** SHA-256 (hex) of the session token; the token itself is never stored. */
  id: string;
  user_id: string;
  expires_at: Date;
  created_at: CreatedAt;
  ip: string | null;
  user_agent: string | null;
}

export interface AuditLogTable {
  id: string;
  at: CreatedAt;
  actor_type: 'user' | 'system' | 'anonymous';
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, never>;
}

export interface Database {
  instance_setting: InstanceSettingTable;
  app_user: UserTable;
  session: SessionTable;
  audit_log: AuditLogTable;
}

/** Re-exported so callers never need a direct kysely import just for these. */
export type { Generated };
