import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Background jobs (@tdk/jobs): workers claim due rows with FOR UPDATE SKIP LOCKED and hold a lease.
  await db.schema
    .createTable('job')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('queued').check(sql`status in ('queued', 'running', 'succeeded', 'failed')`),
    )
    .addColumn('run_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull().defaultTo(10).check(sql`max_attempts > 0`))
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('unique_key', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .execute();
  // Unique among unfinished jobs only, so a deduplicated job can be enqueued again once it is done.
  await db.schema
    .createIndex('job_unique_key_idx')
    .on('job')
    .column('unique_key')
    .unique()
    .where(sql.ref('status'), 'in', sql`('queued', 'running')`)
    .execute();
  await db.schema.createIndex('job_claim_idx').on('job').columns(['status', 'run_at']).execute();
  // The admin list, newest first.
  await db.schema.createIndex('job_created_idx').on('job').columns(['created_at', 'id']).execute();

  // The latest slot each recurring kind was enqueued for: one row per kind, so every slot is
  // enqueued once across all processes, even after its job has finished.
  await db.schema
    .createTable('job_schedule')
    .addColumn('kind', 'text', (c) => c.primaryKey())
    .addColumn('slot_start', 'timestamptz', (c) => c.notNull())
    .execute();
}
