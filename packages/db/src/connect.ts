import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { type Dialect, Kysely, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { PostgresPoolDialect } from './migration-lock';
import { PreparingClient } from './prepared';
import type { Database } from './schema';

/**
 * Where the data lives: an embedded PGlite in a folder (the zero-setup default), an in-memory
 * PGlite (tests), or a real Postgres server. The same migrations and queries run on all three.
 */
export type DatabaseTarget =
  | { kind: 'pglite'; dataDir: string }
  | { kind: 'pglite-memory' }
  | {
      kind: 'postgres';
      url: string;
      poolSize?: number;
      /** How long a query waits for a connection (a free one in the pool, or a new one) before it fails. */
      connectTimeoutMs?: number;
      /**
       * Statements marked `prepared` run as named prepared statements (default true); false behind a
       * transaction-mode pooler, which cannot keep them (see `prepared.ts`).
       */
      preparedStatements?: boolean;
    };

export interface DatabaseHandle {
  db: Kysely<Database>;
  target: DatabaseTarget;
  /** The connection pool on Postgres, for libraries that speak `pg` themselves (rate-limit store). */
  pool: pg.Pool | undefined;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function connectDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  let pool: pg.Pool | undefined;
  let dialect: Dialect;
  if (target.kind === 'postgres') {
    // At least 2: migrations hold their lock on a connection of their own (migration-lock.ts).
    pool = new pg.Pool({
      connectionString: target.url,
      max: Math.max(2, target.poolSize ?? 10),
      // Without a bound, a server that accepts connections but never answers (a network partition,
      // a stalled host) holds every caller forever instead of letting them fail with a 503.
      connectionTimeoutMillis: target.connectTimeoutMs ?? 5_000,
      // TCP keep-alive lets the OS notice a peer that vanished without closing the connection.
      keepAlive: true,
      ...(target.preparedStatements === false ? {} : { Client: PreparingClient }),
    });
    // An idle connection that the server closes (restart, failover, admin kill) must not crash the
    // process: the pool drops it and opens another, and the next query reports any real outage.
    pool.on('error', () => undefined);
    // A connection that dies while checked out (mid-query, mid-transaction) emits 'error' on its
    // client too, where the pool listens only while it is idle: unheard, that ends the process. Its
    // queries fail by themselves, and the pool discards the client when it comes back.
    pool.on('connect', (client) => client.on('error', () => undefined));
    dialect = new PostgresPoolDialect(pool);
  } else {
    dialect = await createPgliteDialect(target);
  }
  const db = new Kysely<Database>({ dialect });
  let closing: Promise<void> | undefined;
  return {
    db,
    target,
    pool,
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

async function createPgliteDialect(target: Exclude<DatabaseTarget, { kind: 'postgres' }>) {
  if (target.kind === 'pglite-memory') return new PGliteDialect(await PGlite.create());
  mkdirSync(target.dataDir, { recursive: true });
  return new PGliteDialect(await PGlite.create(target.dataDir));
}
