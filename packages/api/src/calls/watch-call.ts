import { AppError } from '@tdk/core';
import { tracked } from '@trpc/server';
import { z } from 'zod';
import { adminProcedure } from '../trpc';
import { afterSeqOf, watchCallEvents } from './events';

/**
 * `calls.events`: a call's status changes for the admin app, as a tRPC subscription (SSE). The same
 * events as `GET /api/tdk/v1/calls/{id}/events`; each carries its seq as the event id, so a
 * reconnecting client resumes after the last one it saw. It ends after the final status.
 */
export const watchCall = adminProcedure
  .input(z.object({ id: z.string().max(64), lastEventId: z.string().nullish() }))
  .subscription(async function* ({ ctx, input, signal }) {
    const call = await ctx.services.db
      .selectFrom('call')
      .select('id')
      .where('id', '=', input.id)
      .executeTakeFirst();
    if (!call) throw new AppError('not_found', `No call ${input.id}.`);
    const events = watchCallEvents(ctx.services.db, input.id, {
      afterSeq: afterSeqOf(input.lastEventId),
      signal,
    });
    for await (const event of events) yield tracked(String(event.seq), event);
  });
