export { ensureAdmin, hasAdmin } from './admin/bootstrap';
export { type AuthLimits, createAuthLimits } from './auth/limits';
export { sessionIdOf } from './auth/session-token';
export { toAppError } from './errors';
export { createOpenApiDocument } from './openapi';
export { type AppRouter, appRouter } from './router';
export type { AuthSettings, LimiterFactory, LimiterOptions, Services } from './services';
export { ensureInstance } from './system/instance';
export { type Context, createCallerFactory, type ErrorShapeData } from './trpc';
