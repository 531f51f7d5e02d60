import { Writable } from 'node:stream';
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
): Promise<TestServer> {
  let raw = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      raw += chunk.toString();
      done();
    },
  });
  const config = loadConfig({ TDK_PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: 'memory:', ...env });
  const database = await createTestDatabase(kind);
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
