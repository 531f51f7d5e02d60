import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Database } from './schema';

/**
 * Where the data lives: an embedded PGlite in a folder (the zero-setup default), an in-memory
 * PGlite (tests), or a real Postgres server. The same migrations and queries run on all three.
 */
export type DatabaseTarget =
  | { kind: 'pglite'; dataDir: string }
  | { kind: 'pglite-memory' }
  | { kind: 'postgres'; url: string; poolSize?: number };

export interface DatabaseHandle {
  db: Kysely<Database>;
  target: DatabaseTarget;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function connectDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  const dialect = await createDialect(target);
  const db = new Kysely<Database>({ dialect });
  let closing: Promise<void> | undefined;
  return {
    db,
    target,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    // Idempotent: shutdown paths may race (signal handler, failed start-up).
    close: () => {
      closing ??= db.destroy();
      return closing;
    },
  };
}

async function createDialect(target: DatabaseTarget) {
  switch (target.kind) {
    case 'pglite': {
      mkdirSync(target.dataDir, { recursive: true });
      return new PGliteDialect(await PGlite.create(target.dataDir));
    }
    case 'pglite-memory':
      return new PGliteDialect(await PGlite.create());
    case 'postgres': {
      // Bigints stay strings so money never passes through a float.
      const pool = new pg.Pool({ connectionString: target.url, max: target.poolSize ?? 10 });
      return new PostgresDialect({ pool });
    }
  }
}
