import { createServer, type Socket } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from './connect';
import { isDatabaseUnavailable } from './driver';
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

describe('waiting for a Postgres connection', () => {
  it('fails a query after the connect timeout instead of hanging', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const handle = await connectDatabase({
      kind: 'postgres',
      url: `postgres://nobody@127.0.0.1:${port}/nothing`,
      connectTimeoutMs: 200,
    });
    try {
      const failed = await handle.ping().catch((error: unknown) => error);
      expect(String(failed)).toMatch(/timeout/i);
      expect(isDatabaseUnavailable(failed)).toBe(true); // callers get a 503, not a 500
      expect(sockets.size).toBeGreaterThan(0);
    } finally {
      await handle.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it.runIf(process.env.TEST_DATABASE_URL)(
    'fails a query that waits too long for a busy pool the same way',
    async () => {
      const busy = await connectDatabase({
        kind: 'postgres',
        url: process.env.TEST_DATABASE_URL!,
        poolSize: 2,
        connectTimeoutMs: 200,
      });
      try {
        const holders = await Promise.all([busy.pool!.connect(), busy.pool!.connect()]);
        const waited = await busy.ping().catch((error: unknown) => error);
        expect(String(waited)).toMatch(/timeout/i);
        expect(isDatabaseUnavailable(waited)).toBe(true);
        for (const holder of holders) holder.release();
      } finally {
        await busy.close();
      }
    },
  );
});
