import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connectDatabase } from './connect';
import { prepared } from './prepared';

const url = process.env.TEST_DATABASE_URL;
// CI's pass through PgBouncer turns them off, as a server behind it must be configured.
const preparable = url !== undefined && process.env.DATABASE_PREPARED_STATEMENTS !== 'false';

/** Runs a marked and an unmarked statement twice on one connection; what that session then holds. */
async function preparedAfterUse(preparedStatements: boolean) {
  const handle = await connectDatabase({ kind: 'postgres', url: url!, poolSize: 2, preparedStatements });
  try {
    return await handle.db.connection().execute(async (db) => {
      const sums: number[] = [];
      for (const n of [1, 41]) {
        const marked = await prepared(sql<{ sum: number }>`select ${n}::int + 1 as sum`).execute(db);
        const unmarked = await sql<{ sum: number }>`select ${n}::int + 2 as sum`.execute(db);
        sums.push(marked.rows[0]!.sum, unmarked.rows[0]!.sum);
      }
      const { rows } = await sql<{ name: string; statement: string }>`
        select name, statement from pg_prepared_statements`.execute(db);
      return { sums, statements: rows };
    });
  } finally {
    await handle.close();
  }
}

describe('prepared statements on Postgres', () => {
  it.runIf(preparable)('prepares marked statements once per connection, and only those', async () => {
    const { sums, statements } = await preparedAfterUse(true);
    expect(sums).toEqual([2, 3, 42, 43]); // bound anew with each run's values
    expect(statements).toEqual([
      { name: expect.stringMatching(/^tdk_[0-9a-f]{32}$/), statement: expect.stringContaining('+ 1 as sum') },
    ]);
  });

  it.runIf(preparable)('names the setting to change when the session is not its own', async () => {
    const handle = await connectDatabase({ kind: 'postgres', url: url!, poolSize: 2 });
    try {
      const failed = await handle.db.connection().execute(async (db) => {
        const marked = () => prepared(sql`select ${1}::int as one`).execute(db);
        await marked();
        // What a transaction-mode pooler does by lending the next transaction another server session.
        await sql`deallocate all`.execute(db);
        return marked().catch((error: unknown) => error);
      });
      expect(failed).toMatchObject({ code: '26000' });
      expect(String(failed)).toContain('DATABASE_PREPARED_STATEMENTS=false');
    } finally {
      await handle.close();
    }
  });

  it.runIf(url)('sends every statement unnamed when turned off (behind a transaction pooler)', async () => {
    const { sums, statements } = await preparedAfterUse(false);
    expect(sums).toEqual([2, 3, 42, 43]);
    expect(statements).toEqual([]);
  });
});
