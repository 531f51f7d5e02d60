import { createHash } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';
import pg from 'pg';

/**
 * Postgres parses and plans a statement anew every time it comes unnamed, which is how `pg` sends
 * a query with parameters. For the few plain statements every paid call makes, that is a large part
 * of the database's work per call (their CTEs plan slowly): marked with `prepared`, they are parsed
 * once per connection as named statements and then only bound and run, and Postgres may switch to a
 * generic plan and stop planning them.
 *
 * Only marked statements are prepared, so the set stays small (one per shape of each marked
 * statement) and nothing built by Kysely's query builder, `select *` included, is kept across
 * migrations. Named statements live in the server connection: behind a transaction-mode pooler
 * (PgBouncer before 1.21) they must be off (`DATABASE_PREPARED_STATEMENTS=false`); the marker
 * is then a comment.
 */
const marker = '/* prepared */ ';

/** Marks a plain statement to run as a prepared statement on Postgres (see above). */
export function prepared<T>(statement: RawBuilder<T>): RawBuilder<T> {
  return sql<T>`${sql.raw(marker)}${statement}`;
}

/** Each marked statement's name, by its text: the same text gets the same name on every connection. */
const names = new Map<string, string>();

function nameOf(text: string): string | undefined {
  if (!text.startsWith(marker)) return undefined;
  let name = names.get(text);
  if (name === undefined) {
    name = `tdk_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * What Postgres answers when a named statement is missing from the server session, or another
 * client's is there already: the session is shared, as a transaction-mode pooler shares it.
 */
const sessionShared = new Set(['26000', '42P05']);
const pooledHint =
  ' (TDK prepares its statements per connection; behind a transaction-mode pooler such as PgBouncer, set DATABASE_PREPARED_STATEMENTS=false)';

/**
 * A `pg` client that sends marked statements with their name (in the promise form Kysely uses);
 * anything else passes unchanged.
 */
export class PreparingClient extends pg.Client {
  override query = ((text: unknown, values?: unknown, callback?: unknown) =>
    this.sendNamed(text, values, callback)) as pg.Client['query'];

  private sendNamed(text: unknown, values: unknown, callback: unknown): unknown {
    const query = super.query.bind(this) as (...args: unknown[]) => Promise<unknown>;
    const name = typeof text === 'string' && Array.isArray(values) ? nameOf(text) : undefined;
    if (name === undefined || callback !== undefined) return query(text, values, callback);
    return query({ name, text, values }).catch((error: unknown) => {
      if (error instanceof Error && sessionShared.has((error as { code?: string }).code ?? '')) {
        error.message += pooledHint;
      }
      throw error;
    });
  }
}
