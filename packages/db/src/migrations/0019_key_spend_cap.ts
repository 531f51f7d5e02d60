import { type Kysely, sql } from 'kysely';

/**
 * A developer's own monthly spend cap on one key (micro-USD), below the tier's: a key handed to a
 * CI job or a contractor can then spend no more than it should. Null: the tier's cap alone.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('api_key')
    .addColumn('monthly_spend_cap', 'int8', (c) => c.check(sql`monthly_spend_cap >= 0`))
    .execute();
}
