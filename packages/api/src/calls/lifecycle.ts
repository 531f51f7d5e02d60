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
 * A call row and its event as the CTEs `changed` and `event` of one statement: `change` is an
 * INSERT or UPDATE of `call` returning `id, last_event_seq`, and numbers the event. The call
 * path's statements are plain SQL: Kysely's builder cost more CPU and memory per call than the
 * database work (see docs/benchmarks.md).
 */
export function callWrites(
  change: RawBuilder<unknown>,
  status: CallStatus,
  data: Record<string, unknown> = {},
): RawBuilder<unknown> {
  return sql`
    changed as (${change}),
    event as (
      insert into call_event (call_id, seq, status, data)
      select id, last_event_seq, ${status}, ${JSON.stringify(data)}::jsonb from changed)`;
}

/** Runs `callWrites` (or a `statusChange`) as its own statement: false when it wrote no row. */
export async function writeCall(db: Kysely<Database>, writes: RawBuilder<unknown>): Promise<boolean> {
  const { rows } = await sql<{ written: boolean }>`
    with ${writes} select exists (select from changed) as written`.execute(db);
  return rows[0]?.written === true;
}

type StatusChanges = {
  set?: Updateable<CallTable>;
  data?: Record<string, unknown>;
  /** A further condition, e.g. on CTEs written before this change in the same statement. */
  when?: RawBuilder<boolean>;
};

/**
 * The move from `from` to `to` as `callWrites` CTEs: it writes only if the call is still in
 * `from`. The condition is what makes concurrent runs safe.
 */
export function statusChange(
  callId: string,
  from: CallStatus,
  to: CallStatus,
  changes: StatusChanges = {},
): RawBuilder<unknown> {
  const assignments = Object.entries({ ...changes.set, status: to })
    .filter(([, value]) => value !== undefined)
    .map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
  return callWrites(
    sql`update call set ${sql.join(assignments)}, last_event_seq = last_event_seq + 1
      where id = ${callId} and status = ${from} ${changes.when ? sql`and ${changes.when}` : sql``}
      returning id, last_event_seq`,
    to,
    changes.data,
  );
}

/** Moves the call from `from` to `to` with its event; false when it was not in `from` (another run got there first). */
export async function changeCallStatus(
  db: Kysely<Database>,
  callId: string,
  from: CallStatus,
  to: CallStatus,
  changes: StatusChanges = {},
): Promise<boolean> {
  return writeCall(db, statusChange(callId, from, to, changes));
}

/**
 * A call that never paid fails with its error; its Idempotency-Key is free again for a retry. False
 * when it was no longer in `from` (another run closed it first).
 */
export async function closeUnpaid(
  db: Kysely<Database>,
  callId: string,
  from: 'paying' | 'running',
  error: AppError,
): Promise<boolean> {
  return writeCall(db, unpaidClose(callId, from, error));
}

/** `closeUnpaid` as `callWrites` CTEs, for a statement that writes more with it. */
export function unpaidClose(
  callId: string,
  from: 'paying' | 'running',
  error: AppError,
): RawBuilder<unknown> {
  return statusChange(callId, from, 'failed', {
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
