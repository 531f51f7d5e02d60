import { AppError, isAppError } from '@tdk/core';
import { agentListing } from '@tdk/marketplace';
import { z } from 'zod';
import { agentDto, ZAgent } from '../agents/schemas';
import { recordAudit } from '../audit/record';
import { callAgent } from '../calls/call-agent';
import { ZCallAccepted, ZCallAnswer } from '../calls/schemas';
import { callerOf } from '../keys/verifier';
import { newestFirst, ZPageInput } from '../pagination';
import { adminProcedure } from '../trpc';

/** The local marketplace's registry, disabled agents included, newest first. */
export const listRegistry = adminProcedure
  .input(z.object({ status: z.enum(['active', 'disabled']).optional(), ...ZPageInput }))
  .output(z.object({ items: z.array(ZAgent), next_cursor: z.string().nullable() }))
  .query(async ({ ctx, input }) => {
    let q = ctx.services.db.selectFrom('agent').selectAll();
    if (input.status) q = q.where('status', '=', input.status);
    const page = await newestFirst(q, { time: 'created_at', id: 'id' }, input);
    return {
      items: page.items.map((row) => agentDto(agentListing(row, ctx.services.chain), ctx.services.tiers)),
      next_cursor: page.next_cursor,
    };
  });

/**
 * "Try it": a real call, paid from one of the signed-in admin's own keys (chosen by id; see
 * `admin.keys.createTestKey`), the same path as `POST /v1/call`. Audited with its call id.
 */
export const tryAgent = adminProcedure
  .input(
    z.strictObject({
      agent_id: z.string().min(1).max(200),
      key_id: z.string().max(64),
      input: z.unknown(),
      async: z.boolean().default(false),
    }),
  )
  .output(z.union([ZCallAnswer, ZCallAccepted]))
  .mutation(async ({ ctx, input }) => {
    const { db } = ctx.services;
    const key = await db
      .selectFrom('api_key')
      .selectAll()
      .where('id', '=', input.key_id)
      .where('user_id', '=', ctx.user.id)
      .executeTakeFirst();
    if (!key) throw new AppError('not_found', `No API key ${input.key_id} of yours.`);
    // Checked as any caller of this key: revoked, expired or in the same billing state, it is refused.
    const caller = await callerOf(db, key);
    const audit = (details: Record<string, unknown>) =>
      recordAudit(db, ctx, {
        actor: { type: 'user', id: ctx.user.id },
        action: 'agent.tried',
        target: { type: 'agent', id: input.agent_id },
        details: { key_id: key.id, ...details },
      });
    try {
      const { answer } = await callAgent(ctx.services, caller, {
        agentId: input.agent_id,
        input: input.input,
        idempotencyKey: undefined,
        async: input.async,
      });
      await audit({ call_id: answer.id, status: answer.status });
      return answer;
    } catch (error) {
      if (isAppError(error)) await audit({ error: error.code, call_id: error.details?.call_id ?? null });
      throw error;
    }
  });
