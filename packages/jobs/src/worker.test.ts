import { connectDatabase, type DatabaseHandle } from '@tdk/db';
import { createTestDatabase, testDatabaseKinds } from '@tdk/db/testing';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { enqueueJob } from './enqueue';
import { createWorker, type JobHandler, JobRetryLater } from './worker';

function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(testDatabaseKinds)('the job worker on %s', (kind) => {
  let handle: DatabaseHandle;
  let n = 0;
  // Each test uses kinds of its own, so tests sharing the database never see each other's jobs.
  const newKind = () => `worker-test-${++n}`;
  const jobById = (id: string) =>
    handle.db.selectFrom('job').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  /** Stands in for time passing: the job is due now. */
  const makeDue = (id: string) =>
    handle.db.updateTable('job').set({ run_at: sql<Date>`now()` }).where('id', '=', id).execute();

  beforeAll(async () => {
    handle = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await handle.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('runs an enqueued job once, with its payload', async () => {
    const k = newKind();
    const seen: unknown[] = [];
    const worker = createWorker({
      db: handle.db,
      handlers: { [k]: async ({ payload, attempt, kind }) => void seen.push({ payload, attempt, kind }) },
    });
    const { id } = await enqueueJob(handle.db, { kind: k, payload: { to: 'ünï', amounts: [1, 2] } });

    await worker.drain();
    expect(await worker.runOnce()).toBe(0);
    expect(seen).toEqual([{ payload: { to: 'ünï', amounts: [1, 2] }, attempt: 1, kind: k }]);
    const job = await jobById(id);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 1, locked_by: null, locked_until: null });
    expect(job.finished_at).toBeInstanceOf(Date);
  });

  it('claims only the kinds it handles', async () => {
    const [handled, other] = [newKind(), newKind()];
    const worker = createWorker({ db: handle.db, handlers: { [handled]: async () => undefined } });
    const a = await enqueueJob(handle.db, { kind: handled });
    const b = await enqueueJob(handle.db, { kind: other });

    await worker.drain();
    expect((await jobById(a.id)).status).toBe('succeeded');
    expect(await jobById(b.id)).toMatchObject({ status: 'queued', attempts: 0 });
  });

  it('retries a failing job with backoff, keeps the error, and fails it after max attempts', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const k = newKind();
    const errors: unknown[] = [];
    const worker = createWorker({
      db: handle.db,
      handlers: {
        [k]: async ({ attempt }) => {
          throw new Error(`attempt ${attempt} ${'x'.repeat(2000)}`);
        },
      },
      backoff: { baseMs: 1_000, maxMs: 1_500 },
      onError: (error, job) => errors.push({ error, attempt: job?.attempt }),
    });
    const { id } = await enqueueJob(handle.db, { kind: k, maxAttempts: 3 });

    // Attempt n waits half (Math.random = 0.5) of min(maxMs, baseMs·2ⁿ⁻¹), counted from the database's now.
    for (const [attempt, delayMs] of [
      [1, 500],
      [2, 750],
    ] as const) {
      expect(await worker.runOnce()).toBe(1);
      const job = await jobById(id);
      expect(job).toMatchObject({ status: 'queued', attempts: attempt, locked_by: null, finished_at: null });
      expect(job.run_at.getTime() - job.updated_at.getTime()).toBe(delayMs);
      expect(job.last_error).toHaveLength(1000);
      expect(job.last_error?.startsWith(`attempt ${attempt} xxx`)).toBe(true);
      expect(await worker.runOnce()).toBe(0);
      await makeDue(id);
    }
    expect(await worker.runOnce()).toBe(1);
    const job = await jobById(id);
    expect(job).toMatchObject({ status: 'failed', attempts: 3 });
    expect(job.last_error?.startsWith('attempt 3 ')).toBe(true);
    expect(job.finished_at).toBeInstanceOf(Date);
    expect(await worker.runOnce()).toBe(0);
    expect(errors.map((e) => (e as { attempt: number }).attempt)).toEqual([1, 2, 3]);
  });

  it('reschedules on JobRetryLater without counting an attempt or an error', async () => {
    const k = newKind();
    const attempts: number[] = [];
    const errors: unknown[] = [];
    const worker = createWorker({
      db: handle.db,
      handlers: {
        [k]: async ({ attempt }) => {
          attempts.push(attempt);
          if (attempts.length === 1) throw new JobRetryLater(60_000);
        },
      },
      onError: (error) => errors.push(error),
    });
    const { id } = await enqueueJob(handle.db, { kind: k, maxAttempts: 1 });

    expect(await worker.runOnce()).toBe(1);
    const waiting = await jobById(id);
    expect(waiting).toMatchObject({ status: 'queued', attempts: 0, last_error: null });
    expect(waiting.run_at.getTime() - waiting.updated_at.getTime()).toBe(60_000);
    await makeDue(id);
    await worker.drain();
    expect(await jobById(id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(attempts).toEqual([1, 1]);
    expect(errors).toEqual([]);
  });

  it('gives a job whose lease ran out to another worker, and ignores the stale worker’s result', async () => {
    const k = newKind();
    const began = deferred();
    const release = deferred();
    const stale = createWorker({
      db: handle.db,
      workerId: 'stale',
      handlers: {
        [k]: async () => {
          began.resolve();
          await release.promise;
        },
      },
    });
    const other = createWorker({
      db: handle.db,
      workerId: 'other',
      handlers: {
        [k]: async () => {
          throw new Error('failed on the other worker');
        },
      },
    });
    const { id } = await enqueueJob(handle.db, { kind: k });

    const staleRun = stale.runOnce();
    await began.promise;
    expect(await other.runOnce()).toBe(0);
    // The stale worker's process is taken to have died: its lease runs out.
    await handle.db
      .updateTable('job')
      .set({ locked_until: sql<Date>`now() - interval '1 second'` })
      .where('id', '=', id)
      .execute();
    expect(await other.runOnce()).toBe(1);
    release.resolve();
    expect(await staleRun).toBe(1);

    expect(await jobById(id)).toMatchObject({
      status: 'queued',
      attempts: 2,
      last_error: 'failed on the other worker',
    });
  });

  it('extends the lease while a handler runs, and aborts the handler once another worker took over', async () => {
    const k = newKind();
    const began = deferred();
    let reason: unknown;
    const worker = createWorker({
      db: handle.db,
      leaseMs: 200,
      handlers: {
        [k]: async ({ signal }) => {
          began.resolve();
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
          reason = signal.reason;
        },
      },
    });
    const rival = createWorker({ db: handle.db, handlers: { [k]: async () => undefined } });
    const { id } = await enqueueJob(handle.db, { kind: k });

    const run = worker.runOnce();
    await began.promise;
    await sleep(500); // over twice the lease: only heartbeats keep it
    expect(await rival.runOnce()).toBe(0);
    await handle.db
      .updateTable('job')
      .set((eb) => ({ locked_by: 'rival', attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .execute();
    await run;
    expect(String(reason)).toMatch(/taken over/);
    expect(await jobById(id)).toMatchObject({ status: 'running', locked_by: 'rival', attempts: 2 });
  });

  it('fails, without running it, a job whose worker stopped during its last attempt', async () => {
    const k = newKind();
    let calls = 0;
    const worker = createWorker({ db: handle.db, handlers: { [k]: async () => void calls++ } });
    const { id } = await enqueueJob(handle.db, { kind: k, maxAttempts: 1 });
    await handle.db
      .updateTable('job')
      .set({
        status: 'running',
        attempts: 1,
        locked_by: 'dead',
        locked_until: sql<Date>`now() - interval '1 second'`,
      })
      .where('id', '=', id)
      .execute();

    await worker.drain();
    expect(calls).toBe(0);
    expect(await jobById(id)).toMatchObject({ status: 'failed', attempts: 1, locked_by: null });
    expect((await jobById(id)).last_error).toMatch(/last attempt/);
  });

  it('runs each of 200 jobs exactly once across two workers (on two connections on Postgres)', async () => {
    const k = newKind();
    // On Postgres a second pool is a second process as far as the database can tell; PGlite has one.
    const second = kind === 'postgres' ? await connectDatabase(handle.target) : undefined;
    try {
      const runs = new Map<string, number>();
      const byWorker = { a: 0, b: 0 };
      const handler =
        (worker: 'a' | 'b'): JobHandler =>
        async ({ id }) => {
          runs.set(id, (runs.get(id) ?? 0) + 1);
          byWorker[worker]++;
          await sleep(1);
        };
      const a = createWorker({ db: handle.db, handlers: { [k]: handler('a') }, concurrency: 8 });
      const b = createWorker({
        db: second?.db ?? handle.db,
        handlers: { [k]: handler('b') },
        concurrency: 8,
      });
      const ids = await handle.db.transaction().execute(async (trx) => {
        const created: string[] = [];
        for (let i = 0; i < 200; i++) created.push((await enqueueJob(trx, { kind: k, payload: { i } })).id);
        return created;
      });

      await Promise.all([a.drain(), b.drain()]);
      expect(runs.size).toBe(200);
      expect([...runs.values()].every((count) => count === 1)).toBe(true);
      expect([...runs.keys()].sort()).toEqual([...ids].sort());
      expect(byWorker.a).toBeGreaterThan(0);
      expect(byWorker.b).toBeGreaterThan(0);
      const done = await handle.db
        .selectFrom('job')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('kind', '=', k)
        .where('status', '=', 'succeeded')
        .where('attempts', '=', 1)
        .executeTakeFirstOrThrow();
      expect(done.n).toBe(200);
    } finally {
      await second?.close();
    }
  });

  it('runs a recurring job once per slot across two workers, even after the slot’s job finished', async () => {
    const k = newKind();
    let calls = 0;
    const yearMs = 365 * 24 * 3600_000; // one slot for the whole test
    const worker = () =>
      createWorker({
        db: handle.db,
        handlers: { [k]: async () => void calls++ },
        recurring: [{ kind: k, everyMs: yearMs, payload: { report: 'daily' } }],
      });
    const [a, b] = [worker(), worker()];

    expect(await a.runOnce()).toBe(1);
    expect(await b.runOnce()).toBe(0);
    await Promise.all([a.drain(), b.drain(), worker().drain()]);
    expect(calls).toBe(1);
    const [job] = await handle.db.selectFrom('job').selectAll().where('kind', '=', k).execute();
    expect(job).toMatchObject({ status: 'succeeded', payload: { report: 'daily' } });
    expect(job!.run_at.getTime() % yearMs).toBe(0);
  });

  it('enqueues a short recurring job in each slot, once', async () => {
    const k = newKind();
    const runs = new Map<string, number>();
    const worker = () =>
      createWorker({
        db: handle.db,
        handlers: { [k]: async ({ id }) => void runs.set(id, (runs.get(id) ?? 0) + 1) },
        recurring: [{ kind: k, everyMs: 100 }],
      });
    const [a, b] = [worker(), worker()];

    const until = Date.now() + 450;
    while (Date.now() < until) {
      await Promise.all([a.runOnce(), b.runOnce()]);
      await sleep(5);
    }
    await Promise.all([a.drain(), b.drain()]);
    const jobs = await handle.db.selectFrom('job').selectAll().where('kind', '=', k).execute();
    const slots = jobs.map((j) => j.run_at.getTime());
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    expect(new Set(slots).size).toBe(jobs.length);
    expect(slots.every((t) => t % 100 === 0)).toBe(true);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    expect(runs.size).toBe(jobs.length);
  });

  it('writes a job’s outcome once the database is back, not when the lease runs out', async () => {
    const k = newKind();
    // The database refuses every update while `down`: the outcome's write is lost at first.
    let down = false;
    const db = handle.db.withPlugin({
      transformQuery: (args) => {
        if (down && args.node.kind === 'UpdateQueryNode') throw new Error('the database is away');
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    const errors: unknown[] = [];
    const worker = createWorker({
      db,
      pollIntervalMs: 50,
      onError: (error) => errors.push(error),
      handlers: {
        [k]: async () => {
          down = true;
          setTimeout(() => {
            down = false;
          }, 300);
        },
      },
    });
    const { id } = await enqueueJob(handle.db, { kind: k });
    worker.start();
    try {
      const deadline = Date.now() + 5_000; // the lease is 60 s
      while ((await jobById(id)).status !== 'succeeded' && Date.now() < deadline) await sleep(50);
      expect((await jobById(id)).status).toBe('succeeded');
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await worker.stop();
    }
  });

  it('polls by itself once started, at once when woken, and stop() waits for the running job', async () => {
    const k = newKind();
    const began = deferred();
    const release = deferred();
    let calls = 0;
    const worker = createWorker({
      db: handle.db,
      pollIntervalMs: 60_000, // only wake() and the start make it look
      handlers: {
        [k]: async () => {
          calls++;
          began.resolve();
          await release.promise;
        },
      },
    });
    worker.start();
    const { id } = await enqueueJob(handle.db, { kind: k });
    worker.wake();
    await began.promise;

    let stopped = false;
    const stopping = worker.stop().then(() => {
      stopped = true;
    });
    await sleep(20);
    expect(stopped).toBe(false);
    release.resolve();
    await stopping;
    expect((await jobById(id)).status).toBe('succeeded');

    // Stopped: nothing more is claimed.
    const later = await enqueueJob(handle.db, { kind: k });
    worker.wake();
    await sleep(50);
    expect((await jobById(later.id)).status).toBe('queued');
    expect(calls).toBe(1);
  });
});
