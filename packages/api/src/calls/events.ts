import { setTimeout as sleep } from 'node:timers/promises';
import type { CallStatus, Database } from '@tdk/db';
import type { Kysely } from 'kysely';
import { finishedStatuses, type StoredError } from './lifecycle';
import type { CallAnswer } from './schemas';

/** One status change as the event streams send it. */
export interface CallEvent {
  call_id: string;
  /** 1, 2, 3… per call: the SSE event id, and what `Last-Event-ID` resumes after. */
  seq: number;
  status: CallStatus;
  at: string;
  /** A failure, or a payment whose outcome is not known yet. */
  error?: StoredError;
  /** On `succeeded`: the answer, exactly as the synchronous call returns it. */
  result?: CallAnswer;
}

/**
 * The call's events after `afterSeq`, and whether the call has finished — read in one statement, so
 * `finished` means the final event is among those already seen or returned here. Undefined when the
 * call does not exist.
 */
export async function readCallEvents(
  db: Kysely<Database>,
  callId: string,
  afterSeq: number,
): Promise<{ events: CallEvent[]; finished: boolean } | undefined> {
  const rows = await db
    .selectFrom('call')
    .leftJoin('call_event', (join) =>
      join.onRef('call_event.call_id', '=', 'call.id').on('call_event.seq', '>', afterSeq),
    )
    .select([
      'call.status as call_status',
      'call.response',
      'call_event.seq',
      'call_event.status',
      'call_event.at',
      'call_event.data',
    ])
    .where('call.id', '=', callId)
    .orderBy('call_event.seq')
    .execute();
  const [first] = rows;
  if (!first) return undefined;
  const events = rows.flatMap(({ seq, status, at, data, response }) => {
    if (seq === null || status === null || at === null) return [];
    const event: CallEvent = { call_id: callId, seq, status, at: at.toISOString() };
    if (data?.error) event.error = data.error as StoredError;
    if (status === 'succeeded') event.result = (response as { answer: CallAnswer }).answer;
    return [event];
  });
  return { events, finished: finishedStatuses.includes(first.call_status) };
}

/**
 * Every event of the call after `afterSeq`, in order, as it happens: polls the table (an indexed
 * read, so it works across server processes) until the call has finished or `signal` aborts.
 */
export async function* watchCallEvents(
  db: Kysely<Database>,
  callId: string,
  options: { afterSeq: number; signal?: AbortSignal | undefined; pollMs?: number },
): AsyncGenerator<CallEvent> {
  let seq = options.afterSeq;
  for (;;) {
    const read = await readCallEvents(db, callId, seq);
    for (const event of read?.events ?? []) {
      yield event;
      seq = event.seq;
    }
    if (!read || read.finished || options.signal?.aborted) return;
    await sleep(options.pollMs ?? 200, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

/** A `Last-Event-ID` (the seq of the last event seen), or 0 for the whole history. */
export function afterSeqOf(lastEventId: string | null | undefined): number {
  const seq = Number(lastEventId);
  return Number.isSafeInteger(seq) && seq > 0 ? seq : 0;
}
