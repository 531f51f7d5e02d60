import { AppError, assertPasswordAcceptable } from '@tdk/core';
import { z } from 'zod';
import { recordAudit } from '../audit/record';
import { signedInProcedure } from '../trpc';
import { guessPassword, passwordGuessKey } from './limits';
import { hashPassword, verifyPassword } from './passwords';

/** Changing the password signs out every other session: whoever knew the old one is locked out. */
export const changePassword = signedInProcedure
  .meta({
    openapi: {
      method: 'POST',
      path: '/tdk/auth/password',
      tags: ['auth'],
      summary: 'Change the password',
      description:
        'Needs the current password; wrong ones count as failed sign-ins of the account (429 past the limit). Every other session of the account is signed out.',
      errorResponses: {
        400: 'Invalid input: the current password is wrong, or the new one is the current one or too weak',
        429: 'Too many wrong passwords for the account, or the account rate limit',
      },
    },
  })
  .input(z.strictObject({ current_password: z.string().max(1_000), new_password: z.string().max(1_000) }))
  .output(z.object({ signed_out_sessions: z.number().int() }))
  .mutation(async ({ ctx, input }) => {
    // A stolen session must not be a way to guess the password: wrong ones count as failed sign-ins
    // of the account from this address. The answer is a 400, as a 401 would read as a session ended.
    const { authLimits, auth } = ctx.services;
    const failures = await guessPassword(
      authLimits.loginByEmailAndIp,
      auth.login,
      passwordGuessKey(ctx.user.email, ctx.ip),
      'Too many wrong passwords for this account. Try again later.',
      () => verifyPassword(ctx.user.password_hash, input.current_password),
    );
    if (failures > 0) throw new AppError('invalid_input', 'The current password is not correct.');
    if (input.new_password === input.current_password) {
      throw new AppError('invalid_input', 'The new password is the current one.');
    }
    assertPasswordAcceptable(input.new_password, ctx.user.email);
    const passwordHash = await hashPassword(input.new_password);
    const signedOut = await ctx.services.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('app_user')
        .set({ password_hash: passwordHash, updated_at: new Date() })
        .where('id', '=', ctx.user.id)
        .execute();
      const deleted = await trx
        .deleteFrom('session')
        .where('user_id', '=', ctx.user.id)
        .where('id', '!=', ctx.session.id)
        .executeTakeFirst();
      await recordAudit(trx, ctx, {
        actor: { type: 'user', id: ctx.user.id },
        action: 'auth.password_changed',
        target: { type: 'user', id: ctx.user.id },
      });
      return Number(deleted.numDeletedRows);
    });
    return { signed_out_sessions: signedOut };
  });
