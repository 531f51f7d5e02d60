import { type DialectAdapter, PostgresAdapter, PostgresDialect } from 'kysely';
import type pg from 'pg';

/** Kysely's own migration lock key, so a process still on Kysely's lock waits for this one too. */
const migrationLockKey = '3853314791062309107';

/**
 * Postgres, with the migration lock held by a transaction on a connection of its own while the
 * migrations run. Kysely's lock is session-level, taken and released by two separate statements: a
 * transaction-mode pooler (PgBouncer) may send them to two server connections, and then the unlock
 * misses, the lock stays behind on an idle server connection, and the next start either waits on it
 * or, landing on that connection, migrates at the same time as another process.
 */
export class PostgresPoolDialect extends PostgresDialect {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    super({ pool });
    this.#pool = pool;
  }

  override createAdapter(): DialectAdapter {
    return new TransactionLockAdapter(this.#pool);
  }
}

class TransactionLockAdapter extends PostgresAdapter {
  readonly #pool: pg.Pool;
  #holder: pg.PoolClient | undefined;

  constructor(pool: pg.Pool) {
    super();
    this.#pool = pool;
  }

  override async acquireMigrationLock(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      await client.query(`select pg_advisory_xact_lock(${migrationLockKey})`);
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    this.#holder = client;
  }

  override async releaseMigrationLock(): Promise<void> {
    const client = this.#holder;
    this.#holder = undefined;
    if (!client) return;
    try {
      await client.query('commit');
      client.release();
    } catch (error) {
      // The connection is gone, and its transaction with it: the lock is released either way.
      client.release(error as Error);
    }
  }
}
