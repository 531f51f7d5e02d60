import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectDatabase, type DatabaseHandle, type DatabaseTarget } from './connect';
import { migrateToLatest } from './migrate';

/**
 * Test support: every database suite runs on in-memory PGlite, and also on a real Postgres server
 * when TEST_DATABASE_URL points at one (CI does); TEST_DATABASE_KINDS=postgres leaves PGlite out
 * (CI's second pass, through PgBouncer, with DATABASE_PREPARED_STATEMENTS=false as the server
 * would be configured behind it). Each Postgres handle gets a fresh database of its own,
 * dropped on close, so suites never see each other's rows.
 */
export const testDatabaseKinds: Array<'pglite-memory' | 'postgres'> = !process.env.TEST_DATABASE_URL
  ? ['pglite-memory']
  : process.env.TEST_DATABASE_KINDS === 'postgres'
    ? ['postgres']
    : ['pglite-memory', 'postgres'];

export async function createTestDatabase(kind: 'pglite-memory' | 'postgres'): Promise<DatabaseHandle> {
  if (kind === 'pglite-memory') return migrated({ kind });
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `tdk_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (c) => c.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = await migrated({
    kind: 'postgres',
    url: url.toString(),
    poolSize: 20,
    preparedStatements: process.env.DATABASE_PREPARED_STATEMENTS !== 'false',
  });
  return {
    ...handle,
    close: async () => {
      await handle.close();
      await withAdmin(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

async function migrated(target: DatabaseTarget): Promise<DatabaseHandle> {
  const handle = await connectDatabase(target);
  await migrateToLatest(handle.db);
  return handle;
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
