import type { Kysely } from 'kysely';

/**
 * rate-limiter-flexible's Postgres store, created here rather than by the library at first use, so
 * every process finds it ready. The columns are the library's own.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rate_limit')
    .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('points', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expire', 'bigint')
    .execute();
}
