import { AppError } from '@tdk/core';
import { toBigInt } from '@tdk/db';
import { sql } from 'kysely';
import { z } from 'zod';
import { readCallEvents } from '../calls/events';
import type { StoredError } from '../calls/lifecycle';
import type { CallAnswer } from '../calls/schemas';
import { callStatuses, ZCallAnswer, ZCallError } from '../calls/schemas';
import { newestFirst, ZPageInput } from '../pagination';
import { adminProcedure } from '../trpc';

const ZCallSummary = z.object({
  id: z.string(),
  status: z.enum(callStatuses),
  user: z.object({ id: z.string(), email: z.string() }),
  agent: z.object({ id: z.string(), name: z.string().nullable() }),
  api_key_id: z.string(),
  cost: z.object({ agent: z.number().int(), markup: z.number().int(), total: z.number().int() }),
  tx_signature: z.string().nullable(),
  latency_ms: z.number().int().nullable(),
  error_code: z.string().nullable(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
});

/** The list's columns: everything but the stored answer and input, which can be large. */
function callsQuery(db: Parameters<typeof readCallEvents>[0]) {
  return db
    .selectFrom('call')
    .innerJoin('app_user', 'app_user.id', 'call.user_id')
    .leftJoin('agent', 'agent.id', 'call.agent_id')
    .select([
      'call.id',
      'call.status',
      'call.user_id',
      'app_user.email',
      'call.agent_id',
      'agent.name as agent_name',
      'call.api_key_id',
      'call.agent_cost',
      'call.markup',
      'call.developer_cost',
      'call.tx_signature',
      'call.latency_ms',
      sql<string | null>`call.response->'error'->>'code'`.as('error_code'),
      'call.created_at',
      'call.finished_at',
    ]);
}

type CallRow = Awaited<ReturnType<ReturnType<typeof callsQuery>['executeTakeFirstOrThrow']>>;

const summaryOf = (row: CallRow): z.infer<typeof ZCallSummary> => ({
  id: row.id,
  status: row.status,
  user: { id: row.user_id, email: row.email },
  agent: { id: row.agent_id, name: row.agent_name },
  api_key_id: row.api_key_id,
  cost: {
    agent: Number(toBigInt(row.agent_cost)),
    markup: Number(toBigInt(row.markup)),
    total: Number(toBigInt(row.developer_cost)),
  },
  tx_signature: row.tx_signature,
  latency_ms: row.latency_ms,
  error_code: row.error_code,
  created_at: row.created_at.toISOString(),
  finished_at: row.finished_at?.toISOString() ?? null,
});

/** Recent calls of every account, newest first, by status, account, agent or key. */
export const listCalls = adminProcedure
  .input(
    z.object({
      status: z.enum(callStatuses).optional(),
      user_id: z.string().max(64).optional(),
      agent_id: z.uuid().optional(),
      api_key_id: z.string().max(64).optional(),
      ...ZPageInput,
    }),
  )
  .output(z.object({ items: z.array(ZCallSummary), next_cursor: z.string().nullable() }))
  .query(async ({ ctx, input }) => {
    let q = callsQuery(ctx.services.db);
    if (input.status) q = q.where('call.status', '=', input.status);
    if (input.user_id) q = q.where('call.user_id', '=', input.user_id);
    if (input.agent_id) q = q.where('call.agent_id', '=', input.agent_id);
    if (input.api_key_id) q = q.where('call.api_key_id', '=', input.api_key_id);
    const page = await newestFirst(q, { time: 'call.created_at', id: 'call.id' }, input);
    return { items: page.items.map(summaryOf), next_cursor: page.next_cursor };
  });

const ZCallEventEntry = z.object({
  seq: z.number().int(),
  status: z.enum(callStatuses),
  at: z.string(),
  error: ZCallError.optional(),
});

/** One call in full: the receipt (costs, transaction, receipt id), the answer or error, and its events. */
export const getCallDetail = adminProcedure
  .input(z.object({ id: z.string().max(64) }))
  .output(
    ZCallSummary.extend({
      network_fee_lamports: z.number().int(),
      receipt_id: z.string().nullable(),
      input: z.unknown().describe("An async call's input (kept for its job); null for synchronous calls"),
      result: ZCallAnswer.nullable(),
      error: ZCallError.nullable(),
      events: z.array(ZCallEventEntry),
    }),
  )
  .query(async ({ ctx, input }) => {
    const { db } = ctx.services;
    const row = await callsQuery(db)
      .select(['call.network_fee', 'call.receipt_id', 'call.input', 'call.response'])
      .where('call.id', '=', input.id)
      .executeTakeFirst();
    if (!row) throw new AppError('not_found', `No call ${input.id}.`);
    const stored = row.response as { answer?: CallAnswer; error?: StoredError } | null;
    const events = (await readCallEvents(db, input.id, 0))?.events ?? [];
    return {
      ...summaryOf(row),
      network_fee_lamports: Number(toBigInt(row.network_fee)),
      receipt_id: row.receipt_id,
      input: row.input ?? null,
      result: stored?.answer ?? null,
      error: stored?.error ?? null,
      events: events.map(({ seq, status, at, error }) => ({ seq, status, at, ...(error ? { error } : {}) })),
    };
  });
