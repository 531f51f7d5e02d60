import type { Kysely } from 'kysely';

/**
 * The subscription's status by the same rule as the invoice's (0014): when the event that set it was
 * created, so a late `customer.subscription.updated` cannot bring back a deleted subscription.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('billing_account').addColumn('subscription_status_at', 'timestamptz').execute();
}
