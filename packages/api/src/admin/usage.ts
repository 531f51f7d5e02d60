import { AppError } from '@tdk/core';
import type { Database } from '@tdk/db';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import { ZPageInput } from '../pagination';
import { adminProcedure } from '../trpc';

export const bucketMs = { hour: 3_600_000, day: 86_400_000 } as const;

export const ZSeriesPoint = z.object({
  at: z.string().describe('Start of the hour or day, UTC'),
  calls: z.number().int(),
  failed: z.number().int(),
  revenue: z.number().int().describe('Developer cost, USDC base units'),
  agent_payouts: z.number().int().describe('Agent cost, USDC base units'),
});

// Sums of money columns come back as numeric text; amounts stay well inside a double's exact range.
const callTotals = [
  sql<string>`count(*)::text`.as('calls'),
  sql<string>`(count(*) filter (where call.status = 'failed'))::text`.as('failed'),
  sql<string>`coalesce(sum(call.developer_cost), 0)::text`.as('revenue'),
  sql<string>`coalesce(sum(call.agent_cost), 0)::text`.as('agent_payouts'),
] as const;

const totalsOf = (row: { calls: string; failed: string; revenue: string; agent_payouts: string }) => ({
  calls: Number(row.calls),
  failed: Number(row.failed),
  revenue: Number(row.revenue),
  agent_payouts: Number(row.agent_payouts),
});

/** Calls and money per hour or day (UTC) for `points` buckets from `first`, gaps filled with zeros. */
export async function callSeries(
  db: Kysely<Database>,
  bucket: keyof typeof bucketMs,
  first: Date,
  points: number,
): Promise<Array<z.infer<typeof ZSeriesPoint>>> {
  const step = bucketMs[bucket];
  const rows = await db
    .selectFrom('call')
    .select([sql<Date>`date_trunc(${bucket}, call.created_at, 'UTC')`.as('at'), ...callTotals])
    .where('call.created_at', '>=', first)
    .where('call.created_at', '<', new Date(first.getTime() + points * step))
    .groupBy(sql`1`)
    .execute();
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
function dayRange(input: { from?: string | undefined; to?: string | undefined } | undefined) {
  const today = Math.floor(Date.now() / bucketMs.day) * bucketMs.day;
  const to = input?.to ? Date.parse(input.to) : today;
  const from = input?.from ? Date.parse(input.from) : to - 29 * bucketMs.day;
  const days = (to - from) / bucketMs.day + 1;
  if (days < 1 || days > 366)
    throw new AppError('invalid_input', '`from` must be on or before `to`, at most a year apart.');
  return { from: new Date(from), end: new Date(to + bucketMs.day), days };
}

const ZRange = z.object({ from: ZDay.optional(), to: ZDay.optional() });

/** Usage per day: calls, failures, revenue and agent payouts. One row per day, so no paging. */
export const usageByDay = adminProcedure
  .input(ZRange.optional())
  .output(z.object({ items: z.array(ZSeriesPoint) }))
  .query(async ({ ctx, input }) => {
    const { from, days } = dayRange(input);
    return { items: await callSeries(ctx.services.db, 'day', from, days) };
  });

const ZBreakdownRow = z.object({
  id: z.string(),
  label: z.string().describe('Agent name or account email'),
  calls: z.number().int(),
  failed: z.number().int(),
  revenue: z.number().int(),
  agent_payouts: z.number().int(),
});

/** Cursor of a breakdown page: the (revenue, id) of its last row, highest revenue first. */
const encodeRankCursor = (row: { revenue: string; id: string }) =>
  Buffer.from(`${row.revenue}|${row.id}`).toString('base64url');

function decodeRankCursor(raw: string) {
  const [revenue, id] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  if (!id || !/^\d+$/.test(revenue ?? '')) throw new AppError('invalid_input', 'The cursor is not valid.');
  return { revenue: revenue!, id };
}

/** Usage per agent or per account over a range of days, highest revenue first, paged. */
export const usageBreakdown = adminProcedure
  .input(ZRange.extend({ by: z.enum(['agent', 'customer']), ...ZPageInput }))
  .output(z.object({ items: z.array(ZBreakdownRow), next_cursor: z.string().nullable() }))
  .query(async ({ ctx, input }) => {
    const { from, end } = dayRange(input);
    const revenue = sql`coalesce(sum(call.developer_cost), 0)`;
    const [id, label] =
      input.by === 'agent'
        ? [sql<string>`call.agent_id::text`, sql<string>`coalesce(agent.name, call.agent_id::text)`]
        : [sql<string>`call.user_id`, sql<string>`app_user.email`];
    let q = ctx.services.db
      .selectFrom('call')
      .innerJoin('app_user', 'app_user.id', 'call.user_id')
      .leftJoin('agent', 'agent.id', 'call.agent_id')
      .select([id.as('id'), label.as('label'), ...callTotals])
      .where('call.created_at', '>=', from)
      .where('call.created_at', '<', end)
      .groupBy(sql`1, 2`)
      .orderBy(sql`${revenue} desc, 1 desc`);
    if (input.cursor) {
      const c = decodeRankCursor(input.cursor);
      q = q.having(sql<boolean>`(${revenue}, ${id}) < (${c.revenue}::numeric, ${c.id})`);
    }
    const rows = await q.limit(input.limit + 1).execute();
    const items = rows.slice(0, input.limit);
    const last = items.at(-1);
    return {
      items: items.map((row) => ({ id: row.id, label: row.label, ...totalsOf(row) })),
      next_cursor: rows.length > input.limit && last ? encodeRankCursor(last) : null,
    };
  });
