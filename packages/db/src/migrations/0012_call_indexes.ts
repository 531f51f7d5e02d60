import { type Kysely, sql } from 'kysely';

/**
 * Calls by time, for everything that reads a time range of all accounts (the admin's overview and
 * usage charts, the usage reconciliation of a month); and the open calls alone, for recovery's
 * recurring look for calls stuck in flight. Without them each of those reads the whole table, which
 * only grows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('call_created_idx').on('call').column('created_at').execute();
  await sql`create index call_open_idx on call (created_at) where status in ('queued', 'paying', 'running')`.execute(
    db,
  );
}
