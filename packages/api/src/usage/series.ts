import { AppError } from '@tdk/core';
import type { Database } from '@tdk/db';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';

/** Calls and money over time, for the admin app's charts and for a developer's own usage. */

export const bucketMs = { hour: 3_600_000, day: 86_400_000 } as const;

export const ZSeriesPoint = z.object({
  at: z.string().describe('Start of the hour or day, UTC'),
  calls: z.number().int(),
  failed: z.number().int(),
  revenue: z.number().int().describe('Developer cost, USDC base units'),
  agent_payouts: z.number().int().describe('Agent cost, USDC base units'),
});

// Sums of money columns come back as numeric text; amounts stay well inside a double's exact range.
export const callTotals = [
  sql<string>`count(*)::text`.as('calls'),
  sql<string>`(count(*) filter (where call.status = 'failed'))::text`.as('failed'),
  sql<string>`coalesce(sum(call.developer_cost), 0)::text`.as('revenue'),
  sql<string>`coalesce(sum(call.agent_cost), 0)::text`.as('agent_payouts'),
] as const;

export const totalsOf = (row: { calls: string; failed: string; revenue: string; agent_payouts: string }) => ({
  calls: Number(row.calls),
  failed: Number(row.failed),
  revenue: Number(row.revenue),
  agent_payouts: Number(row.agent_payouts),
});

/**
 * Calls and money per hour or day (UTC) for `points` buckets from `first`, gaps filled with zeros:
 * every account's, or one account's.
 */
export async function callSeries(
  db: Kysely<Database>,
  bucket: keyof typeof bucketMs,
  first: Date,
  points: number,
  userId?: string,
): Promise<Array<z.infer<typeof ZSeriesPoint>>> {
  const step = bucketMs[bucket];
  let q = db
    .selectFrom('call')
    .select([sql<Date>`date_trunc(${bucket}, call.created_at, 'UTC')`.as('at'), ...callTotals])
    .where('call.created_at', '>=', first)
    .where('call.created_at', '<', new Date(first.getTime() + points * step));
  if (userId) q = q.where('call.user_id', '=', userId);
  const rows = await q.groupBy(sql`1`).execute();
  const byTime = new Map(rows.map((r) => [new Date(r.at).getTime(), r]));
  return Array.from({ length: points }, (_, i) => {
    const at = first.getTime() + i * step;
    const row = byTime.get(at);
    return {
      at: new Date(at).toISOString(),
      ...(row ? totalsOf(row) : { calls: 0, failed: 0, revenue: 0, agent_payouts: 0 }),
    };
  });
}

const ZDay = z.iso.date().describe('`YYYY-MM-DD`, UTC');

/** `from`..`to` (inclusive days), by default the last 30 days; at most a year. */
export function dayRange(input: { from?: string | undefined; to?: string | undefined } | undefined) {
  const today = Math.floor(Date.now() / bucketMs.day) * bucketMs.day;
  const to = input?.to ? Date.parse(input.to) : today;
  const from = input?.from ? Date.parse(input.from) : to - 29 * bucketMs.day;
  const days = (to - from) / bucketMs.day + 1;
  if (days < 1 || days > 366)
    throw new AppError('invalid_input', '`from` must be on or before `to`, at most a year apart.');
  return { from: new Date(from), end: new Date(to + bucketMs.day), days };
}

export const ZRange = z.object({ from: ZDay.optional(), to: ZDay.optional() });
