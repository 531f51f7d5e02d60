import { AppError } from '@tdk/core';
import { z } from 'zod';
import { recordAudit } from '../audit/record';
import { signedInProcedure } from '../trpc';
import { sessionDto, ZSession } from './schemas';
import { createSession } from './sessions';

/** Rotates the session: a new token replaces the one presented, which stops working at once. */
export const refresh = signedInProcedure
  .meta({
    openapi: {
      method: 'POST',
      path: '/tdk/auth/refresh',
      tags: ['auth'],
      summary: 'Rotate a session',
      description:
        "Returns a fresh session token with a full lifetime; the token used for this request is invalidated. For Bearer tokens: the admin app's cookie session is extended while it is used (403 over the cookie).",
    },
  })
  .input(z.void())
  .output(z.object({ session: ZSession }))
  .mutation(async ({ ctx }) => {
    // A token in this answer would hand the page's scripts what the HttpOnly cookie keeps from them.
    if (ctx.sessionCookie.signedIn) {
      throw new AppError(
        'forbidden',
        'A session signed in by cookie is extended while it is used; refresh rotates Bearer tokens.',
      );
    }
    const { db, auth } = ctx.services;
    const session = await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('session').where('id', '=', ctx.session.id).execute();
      const issued = await createSession(trx, ctx.user.id, ctx, auth.sessionTtlMs);
      await recordAudit(trx, ctx, {
        actor: { type: 'user', id: ctx.user.id },
        action: 'auth.session_refreshed',
        target: { type: 'user', id: ctx.user.id },
      });
      return issued;
    });
    return { session: sessionDto(session) };
  });
