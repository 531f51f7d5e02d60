import { AppError } from '@tdk/core';
import { sql } from 'kysely';
import { z } from 'zod';
import { ZPageInput } from '../pagination';
import { adminProcedure } from '../trpc';
import { callSeries, callTotals, dayRange, totalsOf, ZRange, ZSeriesPoint } from '../usage/series';

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
