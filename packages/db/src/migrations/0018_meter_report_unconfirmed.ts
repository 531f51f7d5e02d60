import { type Kysely, sql } from 'kysely';

/**
 * Stripe dedupes a meter event's identifier for about 24 hours only. What a report needs to know so
 * that it is never sent blind after that: when its attempt in flight started (`sending_since`, set
 * when claimed, cleared when its outcome is recorded: still set at the next claim means a crash),
 * and when an attempt that Stripe may have counted was first sent (`unconfirmed_since`). A report
 * past the window whose count Stripe's summaries cannot settle is `held` for an operator.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('meter_report')
    .addColumn('sending_since', 'timestamptz')
    .addColumn('unconfirmed_since', 'timestamptz')
    .execute();
  await db.schema.alterTable('meter_report').dropConstraint('meter_report_status_check').execute();
  await db.schema
    .alterTable('meter_report')
    .addCheckConstraint('meter_report_status_check', sql`status in ('open', 'pending', 'delivered', 'held')`)
    .execute();
}
