import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appRouter, ensureInstance, type Services } from '@tdk/api';
import { connectDatabase, type DatabaseHandle, migrateToLatest } from '@tdk/db';
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

  const services: Services = {
    db: database.db,
    instance: {
      id: instance.id,
      version: pkg.version,
      startedAt: new Date(),
      databaseKind: config.database.kind,
    },
  };

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
