import { AppError } from '@tdk/core';
import type { CallStatus, CallTable, Database } from '@tdk/db';
import { type Kysely, type RawBuilder, sql, type Updateable } from 'kysely';

// A call's status moves `queued` (async only) → `paying` (quota, spend cap, funds) → `running` (the
// payment is sent and the agent called: the marketplace does both in one step) → `succeeded` or
// `failed`. Every change is written with an event in `call_event` by the same statement, so the
// event streams replay each state in order. A call in `paying` has sent nothing; from `running` on,
// a payment may exist, so it is never closed as unpaid by anyone but the run that sent it.

export const finishedStatuses: readonly CallStatus[] = ['succeeded', 'failed'];

/** The error a call failed with, as stored in `call.response` and shown by the API. */
export interface StoredError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export const storedError = (error: AppError): StoredError => ({
  code: error.code,
  message: error.message,
  ...(error.details ? { details: error.details } : {}),
});

/** How a call that stopped in `paying` (its run died before sending anything) is closed. */
export const interruptedError = (callId: string) =>
  new AppError(
    'service_unavailable',
    'The call was interrupted before its payment; nothing was paid. Try again.',
    {
      details: { call_id: callId, reason: 'interrupted' },
    },
  );

/**
 * Writes a call row and its event in one statement, or neither: `change` is an INSERT or UPDATE of
 * `call` returning `id, last_event_seq`, and numbers the event. False when it wrote no row.
 * The call path's statements are plain SQL: Kysely's builder cost more CPU and memory per call
 * than the database work (see docs/benchmarks.md).
 */
export async function writeCallWithEvent(
  db: Kysely<Database>,
  change: RawBuilder<unknown>,
  status: CallStatus,
  data: Record<string, unknown> = {},
): Promise<boolean> {
  const { rows } = await sql<{ seq: number }>`
    with changed as (${change})
    insert into call_event (call_id, seq, status, data)
    select id, last_event_seq, ${status}, ${JSON.stringify(data)}::jsonb from changed
    returning seq`.execute(db);
  return rows.length > 0;
}

/**
 * Moves the call from `from` to `to` only if it is still in `from`, with its event; false when it was
 * not (another run got there first). The condition is what makes concurrent runs safe.
 */
export async function changeCallStatus(
  db: Kysely<Database>,
  callId: string,
  from: CallStatus,
  to: CallStatus,
  changes: { set?: Updateable<CallTable>; data?: Record<string, unknown> } = {},
): Promise<boolean> {
  const assignments = Object.entries({ ...changes.set, status: to })
    .filter(([, value]) => value !== undefined)
    .map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
  return writeCallWithEvent(
    db,
    sql`update call set ${sql.join(assignments)}, last_event_seq = last_event_seq + 1
      where id = ${callId} and status = ${from}
      returning id, last_event_seq`,
    to,
    changes.data,
  );
}

/** A call that never paid fails with its error; its Idempotency-Key is free again for a retry. */
export async function closeUnpaid(
  db: Kysely<Database>,
  callId: string,
  from: 'paying' | 'running',
  error: AppError,
): Promise<void> {
  await changeCallStatus(db, callId, from, 'failed', {
    set: {
      idempotency_key: null,
      response_status: error.status,
      response: JSON.stringify({ error: storedError(error) }),
      finished_at: new Date(),
    },
    data: { error: storedError(error) },
  });
}

/**
 * A payment that may have been sent, whose outcome is not known: the call stays open (`running`)
 * and keeps its Idempotency-Key, so a retry replays this error instead of paying a second time.
 */
export async function markOutcomeUnknown(
  db: Kysely<Database>,
  callId: string,
  error: AppError,
  txSignature?: string,
): Promise<void> {
  await changeCallStatus(db, callId, 'running', 'running', {
    set: {
      response: JSON.stringify({ error: storedError(error) }),
      ...(txSignature ? { tx_signature: txSignature } : {}),
    },
    data: { error: storedError(error) },
  });
}
