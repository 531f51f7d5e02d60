import { newId } from '@tdk/core';
import type { Database } from '@tdk/db';
import { type Kysely, sql } from 'kysely';

/** The start of the reporting window `at` falls in (windows are aligned to the epoch, in UTC). */
export function windowStart(at: Date, intervalMs: number): Date {
  return new Date(Math.floor(at.getTime() / intervalMs) * intervalMs);
}

/**
 * A billable call added to its account's open usage report, as the CTEs `usage` and `usage_next`
 * of the statement that records the call, so usage is recorded for Stripe exactly when the call is.
 * A window already sealed for delivery is never changed: the usage goes into the next window
 * instead. The statement must select `assertUsageRecorded`: the next window is sealed too only if
 * the statement took a whole window, and then it fails rather than lose the usage.
 */
export function usageWrites(usage: { userId: string; amount: bigint; at: Date; intervalMs: number }) {
  const window = windowStart(usage.at, usage.intervalMs);
  const add = (start: Date) => sql`
    insert into meter_report (id, user_id, window_start, value, calls)
    select ${newId('meterReport')}, ${usage.userId}, ${start}::timestamptz, ${usage.amount.toString()}::int8, 1`;
  const onlyOpen = sql`
    on conflict (user_id, window_start) do update
      set value = meter_report.value + excluded.value, calls = meter_report.calls + 1, updated_at = now()
      where meter_report.status = 'open'
    returning id`;
  return sql`
    usage as (${add(window)} ${onlyOpen}),
    usage_next as (
      ${add(new Date(window.getTime() + usage.intervalMs))} where not exists (select from usage) ${onlyOpen})`;
}

export const assertUsageRecorded = sql<boolean>`
  tdk_assert(exists (select from usage) or exists (select from usage_next), 'no open usage window')`;

/**
 * Seals every open report whose window is over, so it can be delivered. A call still writing to
 * one waits on its row lock, or, arriving later, moves on to the next window.
 */
export async function sealFinishedWindows(db: Kysely<Database>, intervalMs: number): Promise<number> {
  const sealed = await db
    .updateTable('meter_report')
    .set({ status: 'pending', updated_at: new Date() })
    .where('status', '=', 'open')
    .where(sql<boolean>`window_start + make_interval(secs => ${intervalMs / 1000}) <= now()`)
    .executeTakeFirst();
  return Number(sealed.numUpdatedRows);
}
