import type { LimiterFactory } from '@tdk/api';
import type { DatabaseHandle } from '@tdk/db';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis } from 'rate-limiter-flexible';

/**
 * Where rate-limit counters live: Redis when configured, else the Postgres database (shared by every
 * server process), else this process's memory (the embedded default is one process anyway). A shared
 * store that fails falls back to per-process counters rather than failing the request.
 */
export function createLimiterFactory(database: DatabaseHandle, redis: Redis | undefined): LimiterFactory {
  if (redis) {
    return (options) =>
      new RateLimiterRedis({
        ...options,
        storeClient: redis,
        insuranceLimiter: new RateLimiterMemory(options),
      });
  }
  const { pool, target } = database;
  if (pool) {
    // rate-limiter-flexible names its statements, and a named prepared statement lives in one server
    // session, which a transaction-mode pooler (PgBouncer) does not keep: there, send them unnamed.
    const prepare = target.kind === 'postgres' && target.preparedStatements !== false;
    const storeClient = prepare
      ? pool
      : { query: ({ text, values }: { text: string; values?: unknown[] }) => pool.query(text, values) };
    return (options) =>
      new RateLimiterPostgres({
        ...options,
        storeClient,
        storeType: 'pool',
        tableName: 'rate_limit',
        tableCreated: true,
        clearExpiredByTimeout: true,
        insuranceLimiter: new RateLimiterMemory(options),
      });
  }
  return (options) => new RateLimiterMemory(options);
}
