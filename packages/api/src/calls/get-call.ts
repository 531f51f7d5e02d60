import { AppError } from '@tdk/core';
import { type CallTable, toBigInt } from '@tdk/db';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import { apiKeyReadProcedure } from '../trpc';
import type { StoredError } from './lifecycle';
import { type CallAnswer, callStatuses, ZCallAnswer, ZCallError } from './schemas';

export const ZCallRecord = z
  .object({
    id: z.string(),
    agent_id: z.string(),
    status: z
      .enum(callStatuses)
      .describe(
        '`queued` (async, waiting to run) → `paying` (quota, spend cap, funds) → `running` (the payment is sent and the agent called) → `succeeded` or `failed`',
      ),
    cost: z.object({
      agent: z.number().int(),
      markup: z.number().int(),
      total: z.number().int(),
      network_fee_lamports: z.number().int(),
    }),
    payment: z.object({ tx_signature: z.string() }).nullable(),
    receipt_id: z.string().nullable(),
    latency_ms: z.number().int().nullable(),
    result: ZCallAnswer.nullable().describe(
      'When succeeded: the answer, exactly as the synchronous call returns it',
    ),
    error: ZCallError.nullable().describe(
      'When failed: why. While running: set if the payment outcome is not known yet',
    ),
    created_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .meta({ id: 'CallRecord' });

export const getCall = apiKeyReadProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/v1/calls/{id}',
      tags: ['calls'],
      summary: "A call's status, result and receipt",
    },
  })
  .input(z.object({ id: z.string().max(64) }))
  .output(ZCallRecord)
  .query(async ({ ctx, input }) => {
    // Any key of the same account may read the account's calls; nobody else's exist for it.
    const call = await ctx.services.db
      .selectFrom('call')
      .selectAll()
      .where('id', '=', input.id)
      .where('user_id', '=', ctx.apiKey.user.id)
      .executeTakeFirst();
    if (!call) throw new AppError('not_found', `No call ${input.id}.`);
    return callRecordOf(call);
  });

/** A call row as the API shows it. */
export function callRecordOf(call: Selectable<CallTable>): z.infer<typeof ZCallRecord> {
  const stored = call.response as { answer?: CallAnswer; error?: StoredError } | null;
  return {
    id: call.id,
    agent_id: call.agent_id,
    status: call.status,
    cost: {
      agent: Number(toBigInt(call.agent_cost)),
      markup: Number(toBigInt(call.markup)),
      total: Number(toBigInt(call.developer_cost)),
      network_fee_lamports: Number(toBigInt(call.network_fee)),
    },
    payment: call.tx_signature ? { tx_signature: call.tx_signature } : null,
    receipt_id: call.receipt_id,
    latency_ms: call.latency_ms,
    result: stored?.answer ?? null,
    error: stored?.error ?? null,
    created_at: call.created_at.toISOString(),
    finished_at: call.finished_at?.toISOString() ?? null,
  };
}
