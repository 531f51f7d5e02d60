import { newId } from '@tdk/core';
import type { Database } from '@tdk/db';
import type { Kysely } from 'kysely';

/**
 * This installation's identity, created on the first start and kept in the database: a restart of
 * the embedded default shows the same id, which is how a user sees their data survived.
 */
export async function ensureInstance(db: Kysely<Database>): Promise<{ id: string; firstStartedAt: Date }> {
  await db
    .insertInto('instance_setting')
    .values({ key: 'instance', value: JSON.stringify({ id: newId('instance') }) })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db
    .selectFrom('instance_setting')
    .select(['value', 'created_at'])
    .where('key', '=', 'instance')
    .executeTakeFirstOrThrow();
  return { id: (row.value as { id: string }).id, firstStartedAt: row.created_at };
}
