import type { DatabaseHandle } from '@tdk/db';
import { createTestDatabase, testDatabaseKinds } from '@tdk/db/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobCounts, listJobs } from './admin';
import { enqueueJob } from './enqueue';
import { createWorker } from './worker';

describe.each(testDatabaseKinds)('enqueueing jobs on %s', (kind) => {
  let handle: DatabaseHandle;
  let n = 0;
  // Each test uses kinds of its own, so tests sharing the database never see each other's jobs.
  const newKind = () => `enqueue-test-${++n}`;
  const jobsOf = (k: string) => handle.db.selectFrom('job').selectAll().where('kind', '=', k).execute();

  beforeAll(async () => {
    handle = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await handle.close();
  });

  it('writes the job with the caller’s transaction: nothing if it rolls back', async () => {
    const k = newKind();
    await expect(
      handle.db.transaction().execute(async (trx) => {
        await enqueueJob(trx, { kind: k, payload: { n: 1 } });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await jobsOf(k)).toEqual([]);

    await handle.db.transaction().execute((trx) => enqueueJob(trx, { kind: k, payload: { n: 2 } }));
    const [job] = await jobsOf(k);
    expect(job).toMatchObject({ payload: { n: 2 }, status: 'queued', attempts: 0, max_attempts: 10 });
    expect(job?.id).toMatch(/^job_[a-z2-7]{26}$/);
  });

  it('dedupes by uniqueKey while the job is unfinished, and allows it again once done', async () => {
    const k = newKind();
    const first = await enqueueJob(handle.db, { kind: k, uniqueKey: 'u1' });
    expect(first.created).toBe(true);
    expect(await enqueueJob(handle.db, { kind: k, uniqueKey: 'u1' })).toEqual({
      id: first.id,
      created: false,
    });
    expect((await enqueueJob(handle.db, { kind: k, uniqueKey: 'u2' })).created).toBe(true);

    await createWorker({ db: handle.db, handlers: { [k]: async () => undefined } }).drain();
    const again = await enqueueJob(handle.db, { kind: k, uniqueKey: 'u1' });
    expect(again.created).toBe(true);
    expect(again.id).not.toBe(first.id);
    expect(await jobsOf(k)).toHaveLength(3);
  });

  it('creates one job when the same uniqueKey is enqueued concurrently', async () => {
    const k = newKind();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => enqueueJob(handle.db, { kind: k, uniqueKey: 'same' })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(await jobsOf(k)).toHaveLength(1);
  });

  it('lists jobs newest first, page by page, and counts them by kind and status', async () => {
    const k = newKind();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await enqueueJob(handle.db, { kind: k })).id);
    const allPages = async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listJobs(handle.db, { kind: k, limit: 2, cursor });
        seen.push(...page.data.map((j) => j.id));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      return seen;
    };
    // created_at is never written by the code, so the test sets it in plain SQL.
    const setCreatedAt = (id: string, second: number) =>
      sql`update job set created_at = ${new Date(Date.UTC(2026, 0, 1, 0, 0, second))} where id = ${id}`.execute(
        handle.db,
      );

    // Set apart explicitly: on PGlite several inserts can share one clock reading.
    for (const [i, id] of ids.entries()) await setCreatedAt(id, i);
    expect(await allPages()).toEqual([...ids].reverse());
    // Equal times page by id: no job is lost or shown twice at a page boundary.
    for (const id of ids) await setCreatedAt(id, 0);
    expect(await allPages()).toEqual([...ids].sort().reverse());

    await handle.db.updateTable('job').set({ status: 'failed' }).where('id', '=', ids[0]!).execute();
    expect(
      (await listJobs(handle.db, { kind: k, status: 'failed', limit: 10 })).data.map((j) => j.id),
    ).toEqual([ids[0]]);
    const counts = (await jobCounts(handle.db)).filter((c) => c.kind === k);
    expect(counts).toEqual([
      { kind: k, status: 'failed', count: 1 },
      { kind: k, status: 'queued', count: 4 },
    ]);
  });
});
