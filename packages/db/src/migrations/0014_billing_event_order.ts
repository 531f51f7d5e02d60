import type { Kysely } from 'kysely';

/**
 * Stripe does not deliver events in order: when each invoice state and each account's payment
 * status was last set, by the creation time of the event that set it, so an older event arriving
 * late (a payment failure after the payment that settled it) changes nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('billing_account').addColumn('payment_status_at', 'timestamptz').execute();
  await db.schema.alterTable('billing_period').addColumn('invoice_event_at', 'timestamptz').execute();
}
