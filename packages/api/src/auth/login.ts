import { AppError, normaliseEmail, type Role } from '@tdk/core';
import type { z } from 'zod';
import { recordAudit } from '../audit/record';
import { type Context, publicProcedure } from '../trpc';
import { addressKey, countAttempt, guessPassword, passwordGuessKey } from './limits';
import { decoyPasswordHash, verifyPassword } from './passwords';
import { sessionDto, userDto, ZCredentials, ZSignedIn } from './schemas';
import { createSession, type IssuedSession, type UserRow } from './sessions';

// One answer for "no such email" and "wrong password": the response must not reveal which.
const invalidCredentials = () => new AppError('invalid_credentials', 'The email or password is not correct.');

/**
 * Brute-force protection follows rate-limiter-flexible's login recipe: consecutive failures per
 * email-and-IP slow the answers down, then block that email from that IP for a while; failures per
 * IP across all emails in a day block the IP. A right password clears the email's count. Every
 * attempt is counted before its password is checked, so parallel attempts cannot pass the limits.
 */
export const login = publicProcedure
  .meta({
    openapi: {
      method: 'POST',
      path: '/tdk/auth/login',
      tags: ['auth'],
      summary: 'Start a session',
      description:
        'Returns a session token for `Authorization: Bearer`, and sets an HttpOnly cookie for the admin app. Repeated failures are slowed down, then answered with 429.',
      protect: false,
    },
  })
  .input(ZCredentials)
  .output(ZSignedIn)
  .mutation(async ({ ctx, input }) => {
    const { user, session } = await signIn(ctx, input);
    return { user: userDto(user), session: sessionDto(session) };
  });

/**
 * Checks the credentials, starts a session and sets the session cookie. With `requiredRole`, an
 * account without that role is refused (audited) before any session exists: the admin app's sign-in.
 */
export async function signIn(
  ctx: Context,
  input: z.infer<typeof ZCredentials>,
  requiredRole?: Role,
): Promise<{ user: UserRow; session: IssuedSession }> {
  const { db, auth, authLimits } = ctx.services;
  const settings = auth.login;
  let email: string;
  try {
    email = normaliseEmail(input.email);
  } catch {
    throw invalidCredentials();
  }
  const ip = addressKey(ctx.ip);
  const user = await db.selectFrom('app_user').selectAll().where('email', '=', email).executeTakeFirst();

  await countAttempt(
    authLimits.loginByIp,
    ip,
    settings.ipFailsPerDay,
    'Too many failed sign-ins from this address. Try again later.',
  );
  const failures = await guessPassword(
    authLimits.loginByEmailAndIp,
    settings,
    passwordGuessKey(email, ctx.ip),
    'Too many failed sign-ins for this account. Try again later.',
    async () =>
      (await verifyPassword(user?.password_hash ?? (await decoyPasswordHash()), input.password)) &&
      user !== undefined,
  ).catch(async (error: unknown) => {
    await authLimits.loginByIp.reward(ip);
    throw error;
  });

  if (!user || failures > 0) {
    await recordAudit(db, ctx, {
      actor: { type: 'anonymous' },
      action: 'auth.login_failed',
      ...(user ? { target: { type: 'user', id: user.id } } : {}),
      details: { email, consecutive_failures: failures },
    });
    throw invalidCredentials();
  }
  // The right password is no failure of the address.
  await authLimits.loginByIp.reward(ip);
  if (user.status !== 'active') {
    await recordAudit(db, ctx, {
      actor: { type: 'user', id: user.id },
      action: 'auth.login_refused',
      target: { type: 'user', id: user.id },
      details: { reason: 'suspended' },
    });
    throw new AppError('account_suspended', 'This account is suspended. Contact support.');
  }
  if (requiredRole && user.role !== requiredRole) {
    await recordAudit(db, ctx, {
      actor: { type: 'user', id: user.id },
      action: 'auth.login_refused',
      target: { type: 'user', id: user.id },
      details: { reason: `not_${requiredRole}` },
    });
    throw new AppError('forbidden', `This needs an ${requiredRole} account.`);
  }

  const session = await db.transaction().execute(async (trx) => {
    const issued = await createSession(trx, user.id, ctx, auth.sessionTtlMs);
    await recordAudit(trx, ctx, {
      actor: { type: 'user', id: user.id },
      action: 'auth.login',
      target: { type: 'user', id: user.id },
    });
    return issued;
  });
  ctx.sessionCookie.set(session.token, session.expiresAt);
  return { user, session };
}
