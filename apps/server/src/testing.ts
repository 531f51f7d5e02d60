import { Writable } from 'node:stream';
import { connectDatabase } from '@tdk/db';
import { createTestDatabase } from '@tdk/db/testing';
import { createTdk, type Tdk } from './compose';
import { loadConfig } from './config';
import { createLogger } from './logger';

export interface TestServer {
  tdk: Tdk;
  url: string;
  /** Every log line written so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  /** The raw log text, for scanning for secrets. */
  rawLogs(): string;
  stop(): Promise<void>;
}

/**
 * A whole TDK on a random port over a fresh database (in-memory PGlite, or its own Postgres database),
 * with its logs captured. The same composition root as production; only the config differs.
 */
export async function startTestServer(
  kind: 'pglite-memory' | 'postgres' = 'pglite-memory',
  env: Record<string, string> = {},
  options: { shareDatabaseWith?: TestServer } = {},
): Promise<TestServer> {
  let raw = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      raw += chunk.toString();
      done();
    },
  });
  const config = loadConfig({
    TDK_PORT: '0',
    LOG_LEVEL: 'info',
    DATABASE_URL: 'memory:',
    // One known test KEK, so servers sharing a database (several "processes") open each other's wallets.
    WALLET_ENCRYPTION_KEY: 'a5'.repeat(32),
    // Suites sign up many developers from one address; the limit's own test sets it low.
    TDK_SIGNUPS_PER_IP_PER_HOUR: '1000000',
    ...env,
  });
  // A second server on the first one's database stands in for a second process of one deployment.
  const shared = options.shareDatabaseWith?.tdk.database;
  const database = shared
    ? shared.target.kind === 'postgres'
      ? await connectDatabase(shared.target)
      : { ...shared, close: async () => undefined }
    : await createTestDatabase(kind);
  const tdk = await createTdk(
    { ...config, database: database.target },
    { logger: createLogger('info', sink), database },
  );
  const url = await tdk.listen();
  return {
    tdk,
    url,
    logs: () =>
      raw
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    rawLogs: () => raw,
    stop: () => tdk.stop(),
  };
}
