import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '@tdk/db';
import { type Kysely, sql, type UpdateObject } from 'kysely';
import { enqueueJob } from './enqueue';

/** What a handler is told about the job it runs. */
export interface JobInfo {
  id: string;
  kind: string;
  /** 1 on the first run. */
  attempt: number;
}

/**
 * Runs one job. Throwing schedules a retry (or fails the job after its last attempt). Delivery is at
 * least once: a worker may stop after the work and before recording it, so handlers must be
 * idempotent. `signal` aborts when another worker has taken the job over (this one lost its lease).
 */
export type JobHandler = (job: JobInfo & { payload: unknown; signal: AbortSignal }) => Promise<void>;

/** Thrown by a handler to run the job again after `delayMs`, without counting an attempt or an error. */
export class JobRetryLater extends Error {
  constructor(readonly delayMs: number) {
    super(`Retry in ${delayMs} ms`);
    this.name = 'JobRetryLater';
  }
}

export interface WorkerOptions {
  db: Kysely<Database>;
  /** Only these kinds are claimed, so jobs of a feature that is off here stay queued. */
  handlers: Record<string, JobHandler>;
  /** Default: hostname-pid-random. */
  workerId?: string;
  /** Jobs run at once; default 4. */
  concurrency?: number;
  /** Default 500. */
  pollIntervalMs?: number;
  /** How long a claimed job stays ours without a heartbeat; then another worker takes it. Default 60 s. */
  leaseMs?: number;
  /** Delay before retry n: random in [0, min(maxMs, baseMs·2ⁿ⁻¹)] (full jitter). Default 1 s .. 5 min. */
  backoff?: { baseMs: number; maxMs: number };
  /**
   * Jobs enqueued once per slot of `everyMs` (slots aligned to the epoch, on the database's clock),
   * whichever process gets there first. A recurring job never overlaps itself: a slot that comes
   * while the previous one's job is still unfinished is skipped.
   */
  recurring?: Array<{ kind: string; everyMs: number; payload?: unknown }>;
  /** Logging hook: a handler's error (also kept as `last_error`), or a failed poll (`job` undefined). Must not throw. */
  onError?: (error: unknown, job: JobInfo | undefined) => void;
}

export interface Worker {
  /** Polls every `pollIntervalMs`, and as soon as a running job ends. */
  start(): void;
  /** Stops claiming at once, then waits for the running jobs. */
  stop(): Promise<void>;
  /** Claims one batch (up to the free concurrency) and runs it; resolves with how many ran. */
  runOnce(): Promise<number>;
  /** Runs batches until none of its kinds is due. */
  drain(options?: { timeoutMs?: number }): Promise<void>;
  /** Makes a started worker poll now, e.g. right after enqueueing in this process. */
  wake(): void;
}

interface ClaimedJob {
  id: string;
  kind: string;
  payload: unknown;
  attempts: number;
  max_attempts: number;
}

// Every time is the database's, so several processes agree on one clock.
const now = sql<Date>`now()`;
const inMs = (ms: number) => sql<Date>`now() + make_interval(secs => ${ms / 1000})`;

export function createWorker(options: WorkerOptions): Worker {
  const { db, handlers } = options;
  const kinds = Object.keys(handlers);
  const workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const concurrency = options.concurrency ?? 4;
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const leaseMs = options.leaseMs ?? 60_000;
  const backoff = options.backoff ?? { baseMs: 1_000, maxMs: 300_000 };
  const recurring = options.recurring ?? [];
  const onError = options.onError ?? (() => undefined);
  for (const { kind } of recurring) {
    if (!handlers[kind]) throw new Error(`The recurring job ${kind} has no handler`);
  }

  const running = new Set<Promise<void>>();
  const nextSlotCheck = new Map<string, number>();
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let pollAgain = false;

  function claim(limit: number): Promise<ClaimedJob[]> {
    return db
      .updateTable('job')
      .set((eb) => ({
        status: 'running',
        locked_by: workerId,
        locked_until: inMs(leaseMs),
        attempts: eb('attempts', '+', 1),
        updated_at: now,
      }))
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('job')
          .select('id')
          .where('kind', 'in', kinds)
          .where((eb) =>
            eb.or([
              eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', now)]),
              // Its worker stopped mid-job.
              eb.and([eb('status', '=', 'running'), eb('locked_until', '<', now)]),
            ]),
          )
          .orderBy('run_at')
          .limit(limit)
          .forUpdate()
          .skipLocked(),
      )
      .returning(['id', 'kind', 'payload', 'attempts', 'max_attempts'])
      .execute();
  }

  /** Updates the job only while this worker still holds the attempt it claimed; false if it does not. */
  async function settle(job: ClaimedJob, set: UpdateObject<Database, 'job'>): Promise<boolean> {
    const row = await db
      .updateTable('job')
      .set({ ...set, updated_at: now })
      .where((eb) =>
        eb.and([
          eb('id', '=', job.id),
          eb('status', '=', 'running'),
          eb('locked_by', '=', workerId),
          eb('attempts', '=', job.attempts),
        ]),
      )
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async function run(job: ClaimedJob): Promise<void> {
    const info: JobInfo = { id: job.id, kind: job.kind, attempt: job.attempts };
    const done = { locked_by: null, locked_until: null };
    if (job.attempts > job.max_attempts) {
      // Reclaimed after the worker of its last attempt stopped (or a job that kills its process);
      // this claim is not an attempt.
      const last_error = 'The worker stopped during the last attempt.';
      const failed = { status: 'failed', finished_at: now, attempts: job.max_attempts, last_error } as const;
      await settle(job, { ...done, ...failed }).catch((e) => onError(e, info));
      return;
    }
    const controller = new AbortController();
    const heartbeat = setInterval(() => {
      settle(job, { locked_until: inMs(leaseMs) }).then(
        (kept) => {
          if (kept) return;
          clearInterval(heartbeat);
          controller.abort(new Error('Another worker has taken over the job.'));
        },
        (e) => onError(e, info),
      );
    }, leaseMs / 2);
    heartbeat.unref();

    let outcome: UpdateObject<Database, 'job'>;
    try {
      await handlers[job.kind]!({ ...info, payload: job.payload, signal: controller.signal });
      outcome = { status: 'succeeded', finished_at: now };
    } catch (error) {
      outcome = failure(job, error, info);
    } finally {
      clearInterval(heartbeat);
    }
    await settleOutcome(job, { ...done, ...outcome }, info);
  }

  /**
   * Writes a job's outcome, again and again while the database refuses it (an outage), so the job
   * is released as soon as it is back: a lost write would hold it, and its kind's recurring slots,
   * until the lease ran out. Given up with the lease, or when the worker stops: the job then runs again.
   */
  async function settleOutcome(job: ClaimedJob, set: UpdateObject<Database, 'job'>, info: JobInfo) {
    const giveUpAt = Date.now() + leaseMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await settle(job, set);
        return;
      } catch (error) {
        if (attempt === 1) onError(error, info);
        if (!started || Date.now() + pollIntervalMs > giveUpAt) return;
        await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
      }
    }
  }

  function failure(job: ClaimedJob, error: unknown, info: JobInfo): UpdateObject<Database, 'job'> {
    if (error instanceof JobRetryLater) {
      return { status: 'queued', run_at: inMs(error.delayMs), attempts: sql<number>`attempts - 1` };
    }
    onError(error, info);
    // The message only: stacks stay in logs.
    const last_error = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
    if (job.attempts >= job.max_attempts) return { status: 'failed', finished_at: now, last_error };
    const delayMs = Math.round(
      Math.random() * Math.min(backoff.maxMs, backoff.baseMs * 2 ** (job.attempts - 1)),
    );
    return { status: 'queued', run_at: inMs(delayMs), last_error };
  }

  async function enqueueDueRecurring(): Promise<void> {
    for (const { kind, everyMs, payload } of recurring) {
      if (Date.now() < (nextSlotCheck.get(kind) ?? 0)) continue;
      const msToNextSlot = await db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ now: Date }>`select now() as now`.execute(trx);
        const dbNow = rows[0]!.now.getTime();
        const slotStart = new Date(Math.floor(dbNow / everyMs) * everyMs);
        // The first process to move the kind's slot forward enqueues it; finished slots stay taken.
        const won = await trx
          .insertInto('job_schedule')
          .values({ kind, slot_start: slotStart })
          .onConflict((oc) =>
            oc
              .column('kind')
              .doUpdateSet({ slot_start: slotStart })
              .where('job_schedule.slot_start', '<', slotStart),
          )
          .returning('kind')
          .executeTakeFirst();
        if (won) await enqueueJob(trx, { kind, payload, runAt: slotStart, uniqueKey: `recurring:${kind}` });
        return slotStart.getTime() + everyMs - dbNow;
      });
      // Counted from the database's clock, so a skewed local clock cannot skip a slot.
      nextSlotCheck.set(kind, Date.now() + msToNextSlot);
    }
  }

  /** Enqueues due recurring jobs, claims what fits and starts it; returns the started runs. */
  async function tick(): Promise<Array<Promise<void>>> {
    await enqueueDueRecurring();
    const free = concurrency - running.size;
    if (free <= 0 || kinds.length === 0) return [];
    const jobs = await claim(free);
    return jobs.map((job) => {
      const execution = run(job).finally(() => {
        running.delete(execution);
        poll();
      });
      running.add(execution);
      return execution;
    });
  }

  function poll(): void {
    if (!started) return;
    if (polling) {
      pollAgain = true;
      return;
    }
    clearTimeout(timer);
    polling = tick()
      .then(
        () => undefined,
        (error) => onError(error, undefined),
      )
      .finally(() => {
        polling = undefined;
        if (!started) return;
        timer = setTimeout(poll, pollAgain ? 0 : pollIntervalMs).unref();
        pollAgain = false;
      });
  }

  async function runOnce(): Promise<number> {
    const runs = await tick();
    await Promise.all(runs);
    return runs.length;
  }

  return {
    start() {
      if (started) return;
      started = true;
      poll();
    },
    async stop() {
      started = false;
      clearTimeout(timer);
      await polling;
      await Promise.all(running);
    },
    runOnce,
    async drain({ timeoutMs } = {}) {
      const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
      while ((await runOnce()) > 0) {
        if (Date.now() > deadline) throw new Error(`Jobs were still due after ${timeoutMs} ms`);
      }
    },
    wake: poll,
  };
}

/**
 * Several workers as one: each claims its own kinds with its own concurrency, so long jobs of one
 * kind (async calls waiting on slow agents) cannot take the slots the others need.
 */
export function combineWorkers(workers: Worker[]): Worker {
  return {
    start: () => {
      for (const worker of workers) worker.start();
    },
    stop: async () => {
      await Promise.all(workers.map((worker) => worker.stop()));
    },
    runOnce: async () =>
      (await Promise.all(workers.map((worker) => worker.runOnce()))).reduce((a, b) => a + b, 0),
    drain: async (options) => {
      await Promise.all(workers.map((worker) => worker.drain(options)));
    },
    wake: () => {
      for (const worker of workers) worker.wake();
    },
  };
}
