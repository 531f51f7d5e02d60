import { z } from 'zod';
import { recordAudit } from '../audit/record';
import { signedInProcedure } from '../trpc';

const ZLogoutResponse = z.object({ signed_out_sessions: z.number().int() });

export const logout = signedInProcedure
  .meta({
    openapi: {
      method: 'POST',
      path: '/tdk/auth/logout',
      tags: ['auth'],
      summary: 'End this session',
      description: 'Invalidates the session token used for this request.',
    },
  })
  .input(z.void())
  .output(ZLogoutResponse)
  .mutation(async ({ ctx }) => {
    await ctx.services.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('session').where('id', '=', ctx.session.id).execute();
      await recordAudit(trx, ctx, {
        actor: { type: 'user', id: ctx.user.id },
        action: 'auth.logout',
        target: { type: 'user', id: ctx.user.id },
      });
    });
    ctx.sessionCookie.clear();
    return { signed_out_sessions: 1 };
  });

export const logoutEverywhere = signedInProcedure
  .meta({
    openapi: {
      method: 'POST',
      path: '/tdk/auth/logout-all',
      tags: ['auth'],
      summary: 'End every session',
      description: 'Invalidates every session of the signed-in account, on every device.',
    },
  })
  .input(z.void())
  .output(ZLogoutResponse)
  .mutation(async ({ ctx }) => {
    const count = await ctx.services.db.transaction().execute(async (trx) => {
      const deleted = await trx.deleteFrom('session').where('user_id', '=', ctx.user.id).executeTakeFirst();
      const n = Number(deleted.numDeletedRows);
      await recordAudit(trx, ctx, {
        actor: { type: 'user', id: ctx.user.id },
        action: 'auth.logout_all',
        target: { type: 'user', id: ctx.user.id },
        details: { sessions: n },
      });
      return n;
    });
    ctx.sessionCookie.clear();
    return { signed_out_sessions: count };
  });
