import type { Database } from '@tdk/db';
import { type Kysely, type Selectable, sql } from 'kysely';

export type JobRow = Selectable<Database['job']>;
export type JobStatus = JobRow['status'];

/**
 * Jobs newest first, for the admin view. The cursor is the last row's id, compared as
 * (created_at, id) in the database at full precision; an unknown cursor gives an empty page.
 */
export async function listJobs(
  db: Kysely<Database>,
  query: { status?: JobStatus; kind?: string; limit: number; cursor?: string },
): Promise<{ data: JobRow[]; next_cursor: string | null }> {
  let q = db.selectFrom('job').selectAll();
  if (query.status) q = q.where('status', '=', query.status);
  if (query.kind) q = q.where('kind', '=', query.kind);
  if (query.cursor) {
    q = q.where(sql<boolean>`(created_at, id) < (select created_at, id from job where id = ${query.cursor})`);
  }
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const data = rows.slice(0, query.limit);
  return { data, next_cursor: rows.length > query.limit ? (data.at(-1)?.id ?? null) : null };
}

/** How many jobs each kind has in each status. */
export function jobCounts(
  db: Kysely<Database>,
): Promise<Array<{ kind: string; status: JobStatus; count: number }>> {
  return db
    .selectFrom('job')
    .select(['kind', 'status', sql<number>`count(*)::int`.as('count')])
    .groupBy(['kind', 'status'])
    .orderBy('kind')
    .orderBy('status')
    .execute();
}
