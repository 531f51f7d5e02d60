import { isAppError } from '@tdk/core';
import { initTRPC } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { toAppError, toTRPCError } from './errors';
import type { Services } from './services';

/** What every procedure sees: who asks (later: session, API key) and the services to act with. */
export interface Context {
  requestId: string;
  ip: string | undefined;
  userAgent: string | undefined;
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

export const router = t.router;
export const mergeRouters = t.mergeRouters;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(appErrors);
