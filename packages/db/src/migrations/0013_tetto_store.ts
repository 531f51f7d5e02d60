import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * The Tetto-shaped endpoints' payment intents and receipts, in the database instead of one process's
 * memory: a client may build a payment on one server process and call with it on another, and a
 * receipt (the caller's proof of what it paid for) outlives the process that wrote it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('tetto_intent')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('intent', 'jsonb', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('tetto_intent_expires_idx').on('tetto_intent').column('expires_at').execute();
  await db.schema
    .createTable('tetto_receipt')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('receipt', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}
