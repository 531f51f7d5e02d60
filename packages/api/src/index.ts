export { toAppError } from './errors';
export { createOpenApiDocument } from './openapi';
export { type AppRouter, appRouter } from './router';
export type { Services } from './services';
export { ensureInstance } from './system/instance';
export { type Context, createCallerFactory, type ErrorShapeData } from './trpc';
