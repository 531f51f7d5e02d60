import { newId } from '@tdk/core';
import type { Database } from '@tdk/db';
import { type Kysely, sql, type Transaction } from 'kysely';

/** The start of the reporting window `at` falls in (windows are aligned to the epoch, in UTC). */
export function windowStart(at: Date, intervalMs: number): Date {
  return new Date(Math.floor(at.getTime() / intervalMs) * intervalMs);
}

/**
 * Adds a billable call to its account's open usage report, inside the caller's transaction, so
 * usage is recorded for Stripe exactly when the call is. A window already sealed for delivery
 * is never changed: the usage goes into the next open window instead.
 */
export async function recordBillableUsage(
  trx: Transaction<Database>,
  usage: { userId: string; amount: bigint; at: Date; intervalMs: number },
): Promise<void> {
  if (usage.amount <= 0n) return;
  let window = windowStart(usage.at, usage.intervalMs);
  for (;;) {
    const { rows } = await sql<{ id: string }>`
      insert into meter_report (id, user_id, window_start, value, calls)
      values (${newId('meterReport')}, ${usage.userId}, ${window}, ${usage.amount.toString()}, 1)
      on conflict (user_id, window_start) do update
        set value = meter_report.value + excluded.value, calls = meter_report.calls + 1, updated_at = now()
        where meter_report.status = 'open'
      returning id`.execute(trx);
    if (rows.length > 0) return;
    window = new Date(window.getTime() + usage.intervalMs);
  }
}

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
