import { newId } from '@tdk/core';
import type { Database } from '@tdk/db';
import type { Kysely, Transaction } from 'kysely';

/** A job as a feature declares it, typed by its payload; pass it to `enqueueJob`. */
export interface JobDefinition<P> {
  kind: string;
  payload: P;
}

export interface NewJob {
  kind: string;
  /** Stored as JSON; `{}` when omitted. */
  payload?: unknown;
  /** Not before this time; now when omitted. */
  runAt?: Date;
  /** While a job with this key is queued or running, enqueueing another one does nothing. */
  uniqueKey?: string;
  /** Runs before the job fails for good; 10 when omitted. */
  maxAttempts?: number;
}

/**
 * Adds a job. Pass the caller's transaction to write the job atomically with the caller's rows.
 * `created` is false when an unfinished job with the same `uniqueKey` exists; `id` is then that job's.
 */
export async function enqueueJob(
  db: Kysely<Database> | Transaction<Database>,
  job: NewJob,
): Promise<{ id: string; created: boolean }> {
  const values = {
    id: newId('job'),
    kind: job.kind,
    payload: JSON.stringify(job.payload ?? {}),
    run_at: job.runAt,
    max_attempts: job.maxAttempts,
    unique_key: job.uniqueKey,
  };
  const { uniqueKey } = job;
  if (uniqueKey === undefined) {
    const row = await db.insertInto('job').values(values).returning('id').executeTakeFirstOrThrow();
    return { id: row.id, created: true };
  }
  // Loops only if the existing job finished between the two statements; the next insert then succeeds.
  for (;;) {
    const row = await db
      .insertInto('job')
      .values(values)
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (row) return { id: row.id, created: true };
    const existing = await db
      .selectFrom('job')
      .select('id')
      .where('unique_key', '=', uniqueKey)
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst();
    if (existing) return { id: existing.id, created: false };
  }
}
