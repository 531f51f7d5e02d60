import { z } from 'zod';
import { apiKeyReadProcedure } from '../trpc';
import { callSeries, dayRange, ZRange } from './series';

const ZDailyUsage = z
  .object({
    date: z.string().describe('`YYYY-MM-DD`, UTC'),
    calls: z.number().int().describe('Calls made that day with any key of the account'),
    failed: z.number().int(),
    cost: z
      .number()
      .int()
      .describe('What those calls cost you, USDC base units (a failed call costs nothing)'),
  })
  .meta({ id: 'DailyUsage' });

/** `GET /api/tdk/usage/daily`: the account's calls and what they cost, one row per day. */
export const getDailyUsage = apiKeyReadProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/usage/daily',
      tags: ['usage'],
      summary: "Your account's calls and cost per day",
      description:
        'One row per UTC day from `from` to `to` (by default the last 30 days; at most a year), days without calls included, by the day each call was made.',
    },
  })
  .input(ZRange.prefault({}))
  .output(z.object({ items: z.array(ZDailyUsage) }))
  .query(async ({ ctx, input }) => {
    const { from, days } = dayRange(input);
    const series = await callSeries(ctx.services.db, 'day', from, days, ctx.apiKey.user.id);
    return {
      items: series.map((day) => ({
        date: day.at.slice(0, 10),
        calls: day.calls,
        failed: day.failed,
        cost: day.revenue,
      })),
    };
  });
