import type { TRPCRouterRecord } from '@trpc/server';
import { getInfo } from './system/get-info';
import { router } from './trpc';

const system = { info: getInfo } satisfies TRPCRouterRecord;

/** The one root router: served over tRPC at /trpc and, for procedures with OpenAPI meta, over REST at /api. */
export const appRouter = router({ system });

export type AppRouter = typeof appRouter;
