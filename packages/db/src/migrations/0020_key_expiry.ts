import type { Kysely } from 'kysely';

/** When a key stops working by itself (a contractor's, a demo's); null: it lasts until revoked. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_key').addColumn('expires_at', 'timestamptz').execute();
}
