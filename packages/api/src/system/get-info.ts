import { z } from 'zod';
import { publicProcedure } from '../trpc';

export const ZGetInfoResponse = z.object({
  service: z.literal('tdk'),
  version: z.string(),
  instance_id: z.string(),
  started_at: z.string().describe('ISO 8601 time this server process started'),
});

export const getInfo = publicProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/info',
      tags: ['system'],
      summary: 'Which TDK answers',
      description: 'Version and instance of the TDK server. Needs no authentication.',
      protect: false,
    },
  })
  .input(z.void())
  .output(ZGetInfoResponse)
  .query(({ ctx }) => ({
    service: 'tdk' as const,
    version: ctx.services.instance.version,
    instance_id: ctx.services.instance.id,
    started_at: ctx.services.instance.startedAt.toISOString(),
  }));
