import { AppError, assertPasswordAcceptable, newId, normaliseEmail } from '@tdk/core';
import { isUniqueViolation } from '@tdk/db';
import { recordAudit } from '../audit/record';
import { type Context, publicProcedure } from '../trpc';
import { addressKey, takePoint } from './limits';
import { hashPassword } from './passwords';
import { sessionDto, userDto, ZCredentials, ZSignedIn } from './schemas';
import { createSession } from './sessions';

const emailTaken = () =>
  new AppError('email_taken', 'An account with this email already exists. Sign in instead.');

export const register = publicProcedure
  .meta({
    openapi: {
      method: 'POST',
      path: '/tdk/auth/register',
      tags: ['auth'],
      summary: 'Create an account',
      description: 'Creates a customer account on the free tier and signs it in.',
      protect: false,
    },
  })
  .input(ZCredentials)
  .output(ZSignedIn)
  .mutation(async ({ ctx, input }) => {
    await takeSignupRate(ctx);
    const email = normaliseEmail(input.email);
    assertPasswordAcceptable(input.password, email);
    const passwordHash = await hashPassword(input.password);
    const { db, auth } = ctx.services;
    const result = await db
      .transaction()
      .execute(async (trx) => {
        const id = newId('user');
        const user = await trx
          .insertInto('app_user')
          .values({ id, email, password_hash: passwordHash })
          .returningAll()
          .executeTakeFirstOrThrow();
        await recordAudit(trx, ctx, {
          actor: { type: 'user', id },
          action: 'auth.registered',
          target: { type: 'user', id },
          details: { email },
        });
        const session = await createSession(trx, id, ctx, auth.sessionTtlMs);
        return { user, session };
      })
      .catch((error: unknown) => {
        throw isUniqueViolation(error) ? emailTaken() : error;
      });
    ctx.sessionCookie.set(result.session.token, result.session.expiresAt);
    return { user: userDto(result.user), session: sessionDto(result.session) };
  });

/**
 * Every attempt counts, refused ones too: that also bounds how fast `email_taken` can be used to
 * find out which emails have accounts.
 */
async function takeSignupRate(ctx: Context): Promise<void> {
  const { authLimits, auth } = ctx.services;
  await takePoint(
    authLimits.signupByIp,
    addressKey(ctx.ip),
    auth.signupsPerIpPerHour,
    'Too many sign-ups from this address. Try again later.',
  );
}
