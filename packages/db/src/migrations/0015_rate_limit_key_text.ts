import { type Kysely, sql } from 'kysely';

/**
 * Rate-limit keys hold what they limit, e.g. a sign-in's email and IP address with the limiter's
 * prefix: up to about 320 characters. A longer key than the column took failed in Postgres, and the
 * limiter fell back to each process's own memory, so a long email escaped the shared sign-in limit.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table rate_limit alter column key type text`.execute(db);
}
