import { newId } from '@tdk/core';
import type { Database } from '@tdk/db';
import type { Kysely } from 'kysely';

/**
 * A value generated on first start and kept in the database: every later start, and every other
 * process on the same database, reads the same one.
 */
export async function instanceSetting<T>(
  db: Kysely<Database>,
  key: string,
  generate: () => T,
): Promise<{ value: T; createdAt: Date }> {
  await db
    .insertInto('instance_setting')
    .values({ key, value: JSON.stringify(generate()) })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db
    .selectFrom('instance_setting')
    .select(['value', 'created_at'])
    .where('key', '=', key)
    .executeTakeFirstOrThrow();
  return { value: row.value as T, createdAt: row.created_at };
}

/** This installation's identity: a restart of the embedded default shows the same id, proof its data survived. */
export async function ensureInstance(db: Kysely<Database>): Promise<{ id: string; firstStartedAt: Date }> {
  const { value, createdAt } = await instanceSetting(db, 'instance', () => ({ id: newId('instance') }));
  return { id: value.id, firstStartedAt: createdAt };
}
