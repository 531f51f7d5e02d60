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

export interface Database {
  instance_setting: InstanceSettingTable;
}

/** Re-exported so callers never need a direct kysely import just for these. */
export type { Generated };
