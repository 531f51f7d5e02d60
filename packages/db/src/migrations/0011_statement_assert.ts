import { type Kysely, sql } from 'kysely';

/**
 * `tdk_assert(ok, message)` is true, or fails the statement with `message` (SQLSTATE P0001). A
 * statement that writes several tables through data-modifying CTEs selects its assertions about
 * what those CTEs wrote, so it writes everything or nothing with no transaction around it: one
 * round trip instead of BEGIN, the statements and COMMIT.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function tdk_assert(ok boolean, message text) returns boolean language plpgsql as $$
    begin
      if ok is not true then
        raise exception using message = message, errcode = 'P0001';
      end if;
      return true;
    end $$`.execute(db);
}
