import { type Kysely, sql } from 'kysely';

/**
 * Reports that were already failing when 0018 came in may have been counted by Stripe (no answer, a
 * 5xx): 0018 left them looking never sent. Taken as unconfirmed since they were made, they are
 * checked against Stripe's sums once past its identifier window rather than sent blind.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`update meter_report set unconfirmed_since = created_at
    where status = 'pending' and attempts > 0 and unconfirmed_since is null`.execute(db);
}
