import { AppError } from '@tdk/core';
import type { CallStatus, CallTable, Database } from '@tdk/db';
import type { Kysely, QueryCreator, Updateable } from 'kysely';

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

/** What the statement writing a call row passes on to its event: the row's id and new event number. */
type ChangedCall = { changed: { id: string; last_event_seq: number } };

/**
 * Inserts the event of a call row change, numbered by the change itself: `db` carries the change
 * as the CTE `changed` (an INSERT or UPDATE of the call returning `id, last_event_seq`), so the row
 * and its event are written by one statement, or neither.
 */
export function insertCallEvent(
  db: QueryCreator<Database & ChangedCall>,
  status: CallStatus,
  data: Record<string, unknown> = {},
) {
  return db
    .insertInto('call_event')
    .columns(['call_id', 'seq', 'status', 'data'])
    .expression((eb) =>
      eb
        .selectFrom('changed')
        .select([
          'changed.id',
          'changed.last_event_seq',
          eb.val(status).as('status'),
          eb.cast<Record<string, unknown>>(eb.val(JSON.stringify(data)), 'jsonb').as('data'),
        ]),
    );
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
  const event = await insertCallEvent(
    db.with('changed', (qc) =>
      qc
        .updateTable('call')
        .set((eb) => ({ ...changes.set, status: to, last_event_seq: eb('last_event_seq', '+', 1) }))
        .where('id', '=', callId)
        .where('status', '=', from)
        .returning(['id', 'last_event_seq']),
    ),
    to,
    changes.data,
  )
    .returning('seq')
    .executeTakeFirst();
  return event !== undefined;
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
