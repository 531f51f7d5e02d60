import { type Kysely, sql } from 'kysely';

/**
 * A call counts its own events, so a status change and its event are one statement: the UPDATE
 * that moves the call also numbers the event, under the call row's lock. (Numbering from
 * `max(seq)` needed a transaction around the two, so that the count was read after the lock.)
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('call')
    .addColumn('last_event_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`
    update call set last_event_seq = e.seq
    from (select call_id, max(seq) as seq from call_event group by call_id) e
    where e.call_id = call.id`.execute(db);
}
