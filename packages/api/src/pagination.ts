import { AppError } from '@tdk/core';
import { type SelectQueryBuilder, sql } from 'kysely';
import { z } from 'zod';

/**
 * Keyset pagination, newest first: a cursor is the (time, id) of the last row seen, opaque to
 * callers. Pages cost the same however deep they go, and nothing loads a whole table.
 */
export const ZPageInput = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().describe('`next_cursor` of the previous page'),
};

export interface Cursor {
  /** The row's time as Postgres prints it in UTC: microseconds kept, which a JS Date would drop. */
  at: string;
  id: string;
}

export function encodeCursor(cursor: { at: Date | string; id: string }): string {
  const at = typeof cursor.at === 'string' ? cursor.at : cursor.at.toISOString();
  return Buffer.from(`${at}|${cursor.id}`).toString('base64url');
}

export function decodeCursor(raw: string): Cursor {
  const [at, id] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  if (!id || !at || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/.test(at) || !isRealTime(at)) {
    throw new AppError('invalid_input', 'The cursor is not valid.');
  }
  return { at, id };
}

/** A time both JavaScript and Postgres read as written: no 31 February, no hour 24, no year 0. */
function isRealTime(at: string): boolean {
  const time = new Date(at);
  return (
    !Number.isNaN(time.getTime()) &&
    time.getUTCFullYear() >= 1 &&
    time.toISOString().slice(0, 19) === at.slice(0, 19)
  );
}

/** Given `limit + 1` rows, the page and the cursor of the next one (null on the last page). */
export function toPage<T>(
  rows: T[],
  limit: number,
  cursorOf: (row: T) => { at: Date | string; id: string },
): { items: T[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: rows.length > limit && last ? encodeCursor(cursorOf(last)) : null };
}

/**
 * One page of `query`, newest first by (`time`, `id`), after the cursor. The cursor keeps the time
 * to the microsecond, as Postgres stores it, so the order is on the plain columns (which their
 * indexes serve) and no row is skipped or repeated between pages.
 */
export async function newestFirst<DB, TB extends keyof DB, O extends { id: string }>(
  query: SelectQueryBuilder<DB, TB, O>,
  columns: { time: string; id: string },
  page: { limit: number; cursor?: string | undefined },
): Promise<{ items: O[]; next_cursor: string | null }> {
  const time = sql.ref(columns.time);
  const id = sql.ref(columns.id);
  let q = query.select(
    sql<string>`to_char(${time} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('page_at'),
  ) as unknown as SelectQueryBuilder<DB, TB, O & { page_at: string }>;
  if (page.cursor) {
    const after = decodeCursor(page.cursor);
    q = q.where(sql<boolean>`(${time}, ${id}) < (${after.at}::timestamptz, ${after.id})`);
  }
  const rows = await q
    .orderBy(time, 'desc')
    .orderBy(id, 'desc')
    .limit(page.limit + 1)
    .execute();
  const { items, next_cursor } = toPage(rows, page.limit, (row) => ({ at: row.page_at, id: row.id }));
  return { items: items.map(({ page_at: _, ...row }) => row as unknown as O), next_cursor };
}
