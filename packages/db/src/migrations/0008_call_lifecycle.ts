import { type Kysely, sql } from 'kysely';

/**
 * The call lifecycle: `queued → paying → running → succeeded | failed`, the same statuses the API
 * shows. Why a call failed (agent_failed, agent_timeout, insufficient_funds, …) is its stored error.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table call drop constraint call_status_check`.execute(db);
  // Old statuses onto the new ones. `pending` was an open call whose payment may have been sent.
  await sql`update call set status = 'running' where status = 'pending'`.execute(db);
  await sql`
    update call set response = jsonb_build_object('error', jsonb_build_object(
      'code', 'not_paid', 'message', 'Nothing was paid for this call; its reason was not recorded.'))
    where status = 'not_paid' and response is null`.execute(db);
  await sql`update call set status = 'failed' where status in ('agent_failed', 'agent_timeout', 'not_paid')`.execute(
    db,
  );
  await sql`alter table call add constraint call_status_check
    check (status in ('queued', 'paying', 'running', 'succeeded', 'failed'))`.execute(db);
  // An async call's input, kept for the job that runs it.
  await db.schema.alterTable('call').addColumn('input', 'jsonb').execute();

  // Every status change of a call, in order: the event streams replay it, and resume after a seq.
  await db.schema
    .createTable('call_event')
    .addColumn('call_id', 'text', (c) => c.notNull().references('call.id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('queued', 'paying', 'running', 'succeeded', 'failed')`),
    )
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('data', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addPrimaryKeyConstraint('call_event_pk', ['call_id', 'seq'])
    .execute();
  // Calls made before events existed get one event: where they stand now.
  await sql`
    insert into call_event (call_id, seq, status, at, data)
    select id, 1, status, coalesce(finished_at, created_at),
      case when response->'error' is not null then jsonb_build_object('error', response->'error') else '{}'::jsonb end
    from call`.execute(db);
}
