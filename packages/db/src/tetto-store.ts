import type { TettoIntent, TettoStore } from '@tdk/core';
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema';

/** Intents expired this long ago are deleted as new ones are saved. */
const keepExpiredMs = 10 * 60_000;

/** The Tetto protocol's intents and receipts in the database, shared by every server process. */
export function createTettoStore(db: Kysely<Database>): TettoStore {
  return {
    async saveIntent(intent) {
      await sql`
        with expired as (
          delete from tetto_intent where expires_at < ${new Date(Date.now() - keepExpiredMs)})
        insert into tetto_intent (id, intent, expires_at)
        values (${intent.id}, ${JSON.stringify(intent)}, ${new Date(intent.expires_at)})`.execute(db);
    },
    async takeIntent(id) {
      const taken = await db
        .deleteFrom('tetto_intent')
        .where('id', '=', id)
        .returning('intent')
        .executeTakeFirst();
      return taken?.intent as TettoIntent | undefined;
    },
    async saveReceipt(id, receipt) {
      await db
        .insertInto('tetto_receipt')
        .values({ id, receipt: JSON.stringify(receipt) })
        .execute();
    },
    async getReceipt(id) {
      const row = await db
        .selectFrom('tetto_receipt')
        .select('receipt')
        .where('id', '=', id)
        .executeTakeFirst();
      return row?.receipt;
    },
  };
}
