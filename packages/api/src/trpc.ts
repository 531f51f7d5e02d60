import { AppError, assertStorableInput, isAppError } from '@tdk/core';
import { initTRPC } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { takePoint } from './auth/limits';
import { type UserRow, validateSessionToken } from './auth/sessions';
import { takeCallRate } from './calls/limits';
import { toAppError, toTRPCError } from './errors';
import { looksLikeApiKey } from './keys/secret';
import { assertKeyUsable } from './keys/verifier';
import type { Services } from './services';

/** What every procedure sees: who asks, from where, and the services to act with. */
export interface Context {
  requestId: string;
  ip: string | undefined;
  userAgent: string | undefined;
  /** The bearer token, or else the session cookie, the request carried. */
  credential: string | undefined;
  /**
   * Sets or clears the HttpOnly session cookie the admin app signs in with; `signedIn`: the request's
   * credential is that cookie (no Bearer token).
   */
  sessionCookie: { readonly signedIn: boolean; set(token: string, expiresAt: Date): void; clear(): void };
  /** The `Idempotency-Key` header, when sent. */
  idempotencyKey: string | undefined;
  /** Extra headers for a successful answer (rate-limit headers). */
  responseHeaders: Record<string, string>;
  /**
   * The status of a successful answer when it is not 200 (202 for an accepted async call). A holder,
   * as middlewares hand procedures a copy of the context.
   */
  responseStatus: { code?: number };
  services: Services;
}

/** The error shape on the tRPC transport. `data.code` is our stable code; no stack, ever. */
export interface ErrorShapeData {
  code: string;
  httpStatus: number;
  requestId: string | undefined;
  details: Record<string, unknown> | undefined;
  headers: Record<string, string> | undefined;
}

const t = initTRPC
  .context<Context>()
  .meta<OpenApiMeta>()
  .create({
    // Development mode would put each error's stack into the shape the formatter gets: never sent,
    // but formatting a stack (through source maps, under tsx) cost a refused request ~10% of its CPU.
    isDev: false,
    errorFormatter({ shape, error, ctx }) {
      const app = toAppError(error);
      const data: ErrorShapeData = {
        code: app.code,
        httpStatus: app.status,
        requestId: ctx?.requestId,
        details: app.details,
        headers: app.headers,
      };
      return { code: shape.code, message: app.message, data };
    },
  });

/** Errors our code throws as AppError leave as the TRPCError with the matching status. */
const appErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && isAppError(result.error.cause)) throw toTRPCError(result.error.cause);
  return result;
});

/** Input no use case can store (NUL, unpaired surrogates, absurd nesting) is a 400, on every door. */
const storableInput = t.middleware(async ({ getRawInput, next }) => {
  assertStorableInput(await getRawInput());
  return next();
});

export const router = t.router;
export const publicProcedure = t.procedure.use(appErrors).use(storableInput);

/** A signed-in user (session token as Bearer or cookie), active, within their tier's account rate. */
export const signedInProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const { services } = ctx;
  if (!ctx.credential)
    throw new AppError('unauthenticated', 'Sign in first: send your session token as a Bearer token.');
  const found = await validateSessionToken(services.db, ctx.credential, services.auth.sessionTtlMs);
  if (!found) throw new AppError('unauthenticated', 'The session is invalid or has expired. Sign in again.');
  if (found.user.status !== 'active') {
    throw new AppError('account_suspended', 'This account is suspended. Contact support.');
  }
  // The cookie expires with the session: extended in the database, it is extended in the browser too.
  if (found.extended && ctx.sessionCookie.signedIn) ctx.sessionCookie.set(ctx.credential, found.expiresAt);
  // Admins run the business from the admin app, a handful of requests per page: the top tier's rate.
  const rateTier = found.user.role === 'admin' ? 'pro' : found.user.tier;
  const limit = services.tiers[rateTier].accountRequestsPerMinute;
  const headers = await takePoint(
    services.authLimits.accountByTier[rateTier],
    found.user.id,
    limit,
    `Too many account requests: your tier allows ${limit} per minute.`,
  );
  Object.assign(ctx.responseHeaders, headers);
  return next({
    ctx: { user: found.user as UserRow, session: { id: found.sessionId, expiresAt: found.expiresAt } },
  });
});

export const adminProcedure = signedInProcedure.use(({ ctx, next }) => {
  if (ctx.user.role !== 'admin') throw new AppError('forbidden', 'This needs an admin account.');
  return next();
});

/** A caller with an API key (`Authorization: Bearer tdk_…`), not revoked, whose account is active. */
export const apiKeyProcedure = publicProcedure.use(async ({ ctx, next }) => {
  if (!ctx.credential || !looksLikeApiKey(ctx.credential)) {
    throw new AppError('invalid_api_key', 'Send your API key as `Authorization: Bearer tdk_…`.');
  }
  const verified = await ctx.services.apiKeys.verify(ctx.credential);
  assertKeyUsable(verified);
  return next({ ctx: { apiKey: verified } });
});

/** An API key reading its calls or usage, within its tier's rate (`POST /v1/call` takes its own). */
export const apiKeyReadProcedure = apiKeyProcedure.use(async ({ ctx, next }) => {
  const { services, apiKey } = ctx;
  const headers = await takeCallRate(
    services.callLimits,
    services.tiers,
    apiKey.user.tier,
    apiKey.key.id,
    'read',
  );
  Object.assign(ctx.responseHeaders, headers);
  return next();
});
