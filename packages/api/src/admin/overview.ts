import { type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import { adminProcedure } from '../trpc';
import { bucketMs, callSeries, ZSeriesPoint } from '../usage/series';

/** The chart: the last 24 hours by hour, or the last 30 days by day, ending with the current one. */
const ranges = {
  '24h': { bucket: 'hour', points: 24 },
  '30d': { bucket: 'day', points: 30 },
} as const;

/** Sums of money columns arrive as numeric text; amounts stay well inside a double's exact range. */
const sumWhere = (column: string, where: RawBuilder<unknown>) =>
  sql<string>`coalesce(sum(${sql.ref(column)}) filter (where ${where}), 0)::text`;

/**
 * The overview page's tiles and chart: traffic, errors, this month's money. The treasury and the
 * outbox have their own procedures (`admin.treasury.get`, `admin.billing.reports`).
 */
export const getOverview = adminProcedure
  .input(z.object({ range: z.enum(['24h', '30d']).default('24h') }).optional())
  .output(
    z.object({
      generated_at: z.string(),
      last_hour: z.object({
        calls: z.number().int(),
        failed: z.number().int(),
        calls_per_minute: z.number(),
        error_rate: z.number().nullable().describe('Failed / all calls of the last hour; null without calls'),
      }),
      month: z.object({
        period: z.string(),
        calls: z.number().int(),
        revenue: z.number().int().describe('What developers are billed, USDC base units'),
        agent_payouts: z.number().int().describe('What agents were paid, USDC base units'),
      }),
      series: z.object({ bucket: z.enum(['hour', 'day']), points: z.array(ZSeriesPoint) }),
    }),
  )
  .query(async ({ ctx, input }) => {
    const { db } = ctx.services;
    const { bucket, points } = ranges[input?.range ?? '24h'];
    const now = new Date();
    const hourAgo = new Date(now.getTime() - bucketMs.hour);
    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const seriesStart = new Date(
      (Math.floor(now.getTime() / bucketMs[bucket]) - points + 1) * bucketMs[bucket],
    );
    const inHour = sql`created_at >= ${hourAgo}`;
    const inMonth = sql`created_at >= ${monthStart}`;
    const [totals, series] = await Promise.all([
      db
        .selectFrom('call')
        .select([
          sql<string>`(count(*) filter (where ${inHour}))::text`.as('hour_calls'),
          sql<string>`(count(*) filter (where ${inHour} and status = 'failed'))::text`.as('hour_failed'),
          sql<string>`(count(*) filter (where ${inMonth}))::text`.as('month_calls'),
          sumWhere('developer_cost', inMonth).as('revenue'),
          sumWhere('agent_cost', inMonth).as('payouts'),
        ])
        .where('created_at', '>=', hourAgo < monthStart ? hourAgo : monthStart)
        .executeTakeFirstOrThrow(),
      callSeries(db, bucket, seriesStart, points),
    ]);
    const hourCalls = Number(totals.hour_calls);
    const hourFailed = Number(totals.hour_failed);
    return {
      generated_at: now.toISOString(),
      last_hour: {
        calls: hourCalls,
        failed: hourFailed,
        calls_per_minute: Math.round((hourCalls / 60) * 100) / 100,
        error_rate: hourCalls ? hourFailed / hourCalls : null,
      },
      month: {
        period: monthStart.toISOString().slice(0, 7),
        calls: Number(totals.month_calls),
        revenue: Number(totals.revenue),
        agent_payouts: Number(totals.payouts),
      },
      series: { bucket, points: series },
    };
  });
