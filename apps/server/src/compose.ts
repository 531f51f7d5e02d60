import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  appRouter,
  createAuthLimits,
  ensureAdmin,
  ensureInstance,
  hasAdmin,
  type LimiterFactory,
  type Services,
} from '@tdk/api';
import { connectDatabase, type DatabaseHandle, migrateToLatest } from '@tdk/db';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import pkg from '../package.json' with { type: 'json' };
import type { Config } from './config';
import { createHttpApp } from './http/app';
import { createLogger, type Logger } from './logger';

export interface Tdk {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  services: Services;
  app: ReturnType<typeof createHttpApp>;
  /** The admin created at this start, if any; `generatedPassword` is for the console, never the log. */
  firstAdmin: { email: string; generatedPassword: string | undefined } | undefined;
  /** Listens on the configured port (0 picks a free one) and resolves with the base URL. */
  listen(): Promise<string>;
  /** Stops taking requests, lets in-flight ones finish (up to the shutdown timeout), then closes adapters. */
  stop(): Promise<void>;
}

/**
 * The composition root: the one place that turns configuration into adapters and wires them into
 * the use cases and the HTTP host. Tests build the same thing with an in-memory database.
 */
export async function createTdk(
  config: Config,
  options: { logger?: Logger; database?: DatabaseHandle } = {},
): Promise<Tdk> {
  const logger = options.logger ?? createLogger(config.log.level);
  const database = options.database ?? (await connectDatabase(config.database));
  const { applied } = await migrateToLatest(database.db);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  const instance = await ensureInstance(database.db);

  // One process: counters in memory. Shared stores (Postgres, Redis) arrive with multi-process limits.
  const limiter: LimiterFactory = (options) => new RateLimiterMemory(options);
  const services: Services = {
    db: database.db,
    tiers: config.tiers,
    limiter,
    auth: config.auth,
    authLimits: createAuthLimits(limiter, config.auth, config.tiers),
    instance: {
      id: instance.id,
      version: pkg.version,
      startedAt: new Date(),
      databaseKind: config.database.kind,
    },
  };

  const firstAdmin = await bootstrapFirstAdmin(config, database, logger);

  const app = createHttpApp({
    router: appRouter,
    services,
    logger,
    readiness: [{ name: 'database', check: database.ping }],
    maxBodyBytes: config.server.maxBodyBytes,
    trustProxy: config.server.trustProxy,
  });

  let server: Server | undefined;
  return {
    config,
    logger,
    database,
    services,
    app,
    firstAdmin,
    listen: () =>
      new Promise((resolve, reject) => {
        const s = app.listen(config.server.port, config.server.host, (error?: Error) => {
          if (error) return reject(error);
          const { port } = s.address() as AddressInfo;
          resolve(config.server.publicUrl ?? `http://${config.server.host}:${port}`);
        });
        server = s;
      }),
    async stop() {
      if (server) await closeServer(server, config.server.shutdownTimeoutMs);
      await database.close();
    },
  };
}

async function closeServer(server: Server, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
  await closed;
  clearTimeout(timer);
}

/**
 * The first admin: from TDK_ADMIN_EMAIL/TDK_ADMIN_PASSWORD when set; on the embedded default with
 * nothing set, admin@tdk.local with a generated password that the CLI prints once.
 */
async function bootstrapFirstAdmin(
  config: Config,
  database: DatabaseHandle,
  logger: Logger,
): Promise<Tdk['firstAdmin']> {
  const { email, password } = config.bootstrapAdmin;
  if (!email && config.database.kind !== 'pglite') return undefined;
  if (await hasAdmin(database.db)) return undefined;
  const result = await ensureAdmin(database.db, {
    email: email ?? 'admin@tdk.local',
    ...(password ? { password } : {}),
  });
  logger.info({ user: result.userId, email: result.email }, 'first admin account ready');
  return { email: result.email, generatedPassword: result.generatedPassword };
}
