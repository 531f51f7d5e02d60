import { AppError } from '@tdk/core';
import { sql } from 'kysely';
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
  at: Date;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.at.toISOString()}|${cursor.id}`).toString('base64url');
}

export function decodeCursor(raw: string): Cursor {
  const [at, id] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  const date = new Date(at ?? '');
  if (!id || Number.isNaN(date.getTime())) throw new AppError('invalid_input', 'The cursor is not valid.');
  return { at: date, id };
}

/** Given `limit + 1` rows, the page and the cursor of the next one (null on the last page). */
export function toPage<T>(
  rows: T[],
  limit: number,
  cursorOf: (row: T) => Cursor,
): { items: T[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: rows.length > limit && last ? encodeCursor(cursorOf(last)) : null };
}

/**
 * Postgres keeps microseconds, cursors carry milliseconds: keyset queries order and compare a time
 * column at millisecond precision, so no row is skipped or repeated between pages.
 */
export const atMs = (column: string) => sql<Date>`date_trunc('milliseconds', ${sql.ref(column)})`;

/** Rows after the cursor in newest-first order of (`atMs(timeColumn)`, `idColumn`). */
export const olderThan = (cursor: Cursor, timeColumn: string, idColumn: string) =>
  sql<boolean>`(${atMs(timeColumn)}, ${sql.ref(idColumn)}) < (${cursor.at}::timestamptz, ${cursor.id})`;
