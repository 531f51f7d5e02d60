import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from './connect';
import { migrateToLatest } from './migrate';
import { migrations } from './migrations';
import { createTestDatabase, testDatabaseKinds } from './testing';

describe.each(testDatabaseKinds)('database on %s', (kind) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await handle.close();
  });

  it('has applied every migration, and a second run applies none', async () => {
    const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
      handle.db,
    );
    expect(rows.rows.map((r) => r.name)).toEqual(Object.keys(migrations));
    expect(await migrateToLatest(handle.db)).toEqual({ applied: [] });
  });

  it('runs the same upsert-and-read query', async () => {
    const upsert = (value: unknown) =>
      handle.db
        .insertInto('instance_setting')
        .values({ key: 'probe', value: JSON.stringify(value) })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({ value: JSON.stringify(value), updated_at: new Date() }),
        )
        .execute();
    await upsert({ n: 1 });
    await upsert({ n: 2, text: 'ünïcødé' });
    const row = await handle.db
      .selectFrom('instance_setting')
      .selectAll()
      .where('key', '=', 'probe')
      .executeTakeFirstOrThrow();
    expect(row.value).toEqual({ n: 2, text: 'ünïcødé' });
    expect(row.created_at).toBeInstanceOf(Date);
    expect(row.updated_at.getTime()).toBeGreaterThanOrEqual(row.created_at.getTime());
  });

  it('serialises concurrent read-modify-write transactions with row locks', async () => {
    await handle.db
      .insertInto('instance_setting')
      .values({ key: 'counter', value: JSON.stringify(0) })
      .execute();
    const increment = () =>
      handle.db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('instance_setting')
          .select('value')
          .where('key', '=', 'counter')
          .forUpdate()
          .executeTakeFirstOrThrow();
        await trx
          .updateTable('instance_setting')
          .set({ value: JSON.stringify((row.value as number) + 1) })
          .where('key', '=', 'counter')
          .execute();
      });
    await Promise.all(Array.from({ length: 20 }, increment));
    const row = await handle.db
      .selectFrom('instance_setting')
      .select('value')
      .where('key', '=', 'counter')
      .executeTakeFirstOrThrow();
    expect(row.value).toBe(20);
  });

  it.runIf(kind === 'postgres')(
    'migrates from several processes at once and leaves no lock behind',
    async () => {
      // Through a transaction-mode pooler (CI's PgBouncer pass) a session-level lock could be stranded.
      const processes = await Promise.all([1, 2, 3].map(() => connectDatabase(handle.target)));
      try {
        await Promise.all(
          processes.map(async (p) => {
            await migrateToLatest(p.db);
            // Another process's transaction in between, as on a busy pooler.
            await p.db.transaction().execute((trx) => sql`select 1`.execute(trx));
            await migrateToLatest(p.db);
          }),
        );
      } finally {
        await Promise.all(processes.map((p) => p.close()));
      }
      const locks = await sql<{ n: number }>`select count(*)::int as n from pg_locks
      where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`.execute(
        handle.db,
      );
      expect(locks.rows[0]!.n).toBe(0);
    },
  );
});
