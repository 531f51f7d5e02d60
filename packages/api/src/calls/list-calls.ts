import { z } from 'zod';
import { newestFirst, ZPageInput } from '../pagination';
import { apiKeyReadProcedure } from '../trpc';
import { callRecordOf, ZCallRecord } from './get-call';
import { callStatuses } from './schemas';

export const ZCallList = z
  .object({
    items: z.array(ZCallRecord),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last'),
  })
  .meta({ id: 'CallList' });

/** `GET /api/tdk/v1/calls`: the account's calls, newest first, a page at a time. */
export const listOwnCalls = apiKeyReadProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/v1/calls',
      tags: ['calls'],
      summary: "Your account's calls, newest first",
      description:
        'Every call made with any key of your account (as `GET /v1/calls/{id}` shows each), newest first, in pages of `limit`; follow `next_cursor` for older ones.',
    },
  })
  .input(
    z.object({
      status: z.enum(callStatuses).optional(),
      agent_id: z
        .string()
        .min(1)
        .max(200)
        .optional()
        .describe('Only the calls of this agent: its id or its name, as `POST /v1/call` takes it'),
      ...ZPageInput,
    }),
  )
  .output(ZCallList)
  .query(async ({ ctx, input }) => {
    let q = ctx.services.db.selectFrom('call').selectAll().where('user_id', '=', ctx.apiKey.user.id);
    if (input.status) q = q.where('status', '=', input.status);
    if (input.agent_id) {
      // Disabled agents too: their calls stay listed. An unknown agent has no calls.
      const agent = await ctx.services.marketplace.getAgent(input.agent_id);
      if (!agent) return { items: [], next_cursor: null };
      q = q.where('agent_id', '=', agent.id);
    }
    const page = await newestFirst(q, { time: 'created_at', id: 'id' }, input);
    return { items: page.items.map(callRecordOf), next_cursor: page.next_cursor };
  });
