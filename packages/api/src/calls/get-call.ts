import { AppError } from '@tdk/core';
import { toBigInt } from '@tdk/db';
import { z } from 'zod';
import { apiKeyProcedure } from '../trpc';

export const ZCallRecord = z
  .object({
    id: z.string(),
    agent_id: z.string(),
    status: z.enum(['pending', 'succeeded', 'agent_failed', 'agent_timeout', 'not_paid']),
    cost: z.object({
      agent: z.number().int(),
      markup: z.number().int(),
      total: z.number().int(),
      network_fee_lamports: z.number().int(),
    }),
    payment: z.object({ tx_signature: z.string() }).nullable(),
    receipt_id: z.string().nullable(),
    latency_ms: z.number().int().nullable(),
    result: z.unknown().describe('The stored answer (succeeded) or error (failed)'),
    created_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .meta({ id: 'CallRecord' });

export const getCall = apiKeyProcedure
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
    const stored = call.response as { answer?: unknown; error?: unknown } | null;
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
      result: stored?.answer ?? stored?.error ?? null,
      created_at: call.created_at.toISOString(),
      finished_at: call.finished_at?.toISOString() ?? null,
    };
  });
