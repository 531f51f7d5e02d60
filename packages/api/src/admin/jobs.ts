import { jobCounts, listJobs } from '@tdk/jobs';
import { z } from 'zod';
import { ZPageInput } from '../pagination';
import { adminProcedure } from '../trpc';

const jobStatuses = ['queued', 'running', 'succeeded', 'failed'] as const;

const ZJob = z
  .object({
    id: z.string(),
    kind: z.string(),
    status: z.enum(jobStatuses),
    attempts: z.number().int(),
    max_attempts: z.number().int(),
    run_at: z.string(),
    last_error: z.string().nullable(),
    created_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .meta({ id: 'Job' });

/** The background jobs of every process: what waits, runs, retries (with its last error) and failed. */
export const listBackgroundJobs = adminProcedure
  .meta({
    openapi: { method: 'GET', path: '/tdk/admin/jobs', tags: ['admin'], summary: 'Background jobs (admin)' },
  })
  .input(
    z.object({ status: z.enum(jobStatuses).optional(), kind: z.string().max(100).optional(), ...ZPageInput }),
  )
  .output(
    z.object({
      counts: z.array(z.object({ kind: z.string(), status: z.enum(jobStatuses), count: z.number().int() })),
      items: z.array(ZJob),
      next_cursor: z.string().nullable(),
    }),
  )
  .query(async ({ ctx, input }) => {
    const { db } = ctx.services;
    const [page, counts] = await Promise.all([
      listJobs(db, {
        limit: input.limit,
        ...(input.status ? { status: input.status } : {}),
        ...(input.kind ? { kind: input.kind } : {}),
        ...(input.cursor ? { cursor: input.cursor } : {}),
      }),
      jobCounts(db),
    ]);
    return {
      counts,
      items: page.data.map((job) => ({
        id: job.id,
        kind: job.kind,
        status: job.status,
        attempts: job.attempts,
        max_attempts: job.max_attempts,
        run_at: job.run_at.toISOString(),
        last_error: job.last_error,
        created_at: job.created_at.toISOString(),
        finished_at: job.finished_at?.toISOString() ?? null,
      })),
      next_cursor: page.next_cursor,
    };
  });
