import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AgentServer, type AgentSpec, answersAgent, memoryAgent, startAgentServer } from '@tdk/agents';
import {
  appRouter,
  checkTreasuryFloat,
  createApiKeyVerifier,
  createAuthLimits,
  createCallLimits,
  ensureAdmin,
  ensureInstance,
  ensureTreasury,
  hasAdmin,
  instanceSetting,
  type Services,
  upsertAgent,
} from '@tdk/api';
import { createStripeBilling } from '@tdk/billing';
import { generateKeypair, parseSecretKey } from '@tdk/chain';
import type { SolanaPort } from '@tdk/core';
import { connectDatabase, createTettoStore, type DatabaseHandle, migrateToLatest } from '@tdk/db';
import type { Worker } from '@tdk/jobs';
import {
  createLocalMarketplace,
  createTettoPlatformMarketplace,
  type LocalMarketplace,
  type TettoPlatformMarketplace,
} from '@tdk/marketplace';
import { Redis } from 'ioredis';
import { collectDefaultMetrics, Registry } from 'prom-client';
import pkg from '../package.json' with { type: 'json' };
import { createAlertSink } from './alerts';
import { createChain, isEmbeddedChain } from './chain';
import type { Config } from './config';
import { createHttpApp } from './http/app';
import { answerClientErrors } from './http/client-error';
import { createJobWorker } from './jobs';
import { createLimiterFactory } from './limiter-store';
import { createLogger, type Logger } from './logger';
import { loadKeyring } from './wallet-kek';

export interface Tdk {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  services: Services;
  app: ReturnType<typeof createHttpApp>;
  /** The example agents' server, when this process runs them (the embedded default does). */
  agentServer: AgentServer | undefined;
  /** This process's job runner, when `TDK_WORKER` is on. */
  worker: Worker | undefined;
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

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tdk_' });
  const alerts = createAlertSink({ logger, registry, webhookUrl: config.alertWebhookUrl });
  const vault = loadKeyring(config.walletKek, logger);
  const chain = await createChain(config.chain, database, vault);

  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
    : undefined;
  const limiter = createLimiterFactory(database, redis);

  const marketplace = await createMarketplace(config.marketplace, database, chain);
  let worker: Worker | undefined;
  const services: Services = {
    db: database.db,
    tiers: config.tiers,
    limiter,
    auth: config.auth,
    authLimits: createAuthLimits(limiter, config.auth, config.tiers),
    chain,
    newKeypair: generateKeypair,
    vault,
    treasury: { floatUsdc: config.treasury.floatUsdc },
    alerts,
    apiKeys: createApiKeyVerifier(database.db, { ttlMs: config.keyCacheMs }),
    marketplace,
    callLimits: createCallLimits(limiter, config.tiers),
    billing: {
      port: config.billing.stripe
        ? createStripeBilling({
            secretKey: config.billing.stripe.secretKey,
            webhookSecret: config.billing.stripe.webhookSecret,
            apiUrl: config.billing.stripe.apiUrl,
          })
        : undefined,
      reportIntervalMs: config.billing.reportIntervalMs,
    },
    jobs: { wake: () => worker?.wake() },
    keyEnvironment: chain.network === 'mainnet-beta' ? 'live' : 'test',
    instance: {
      id: instance.id,
      version: pkg.version,
      startedAt: new Date(),
      databaseKind: config.database.kind,
    },
  };

  const firstAdmin = await bootstrapFirstAdmin(config, database, logger);
  const treasury = await ensureTreasury(services, {
    ...(config.treasury.importSecretKey
      ? { importKeypair: parseSecretKey(config.treasury.importSecretKey) }
      : {}),
    ...(isEmbeddedChain(chain)
      ? {
          embeddedSeed: {
            ...embeddedTreasurySeed(config.treasury.floatUsdc),
            fund: (owner, amounts) => chain.fund(owner, amounts),
          },
        }
      : {}),
  });
  await checkTreasuryFloat(services, treasury);
  const agentServer = config.marketplace.exampleAgents ? await startExampleAgents(database) : undefined;

  const app = createHttpApp({
    router: appRouter,
    services,
    logger,
    readiness: [
      { name: 'database', check: database.ping },
      { name: 'chain', check: () => chain.ping() },
      ...(redis ? [{ name: 'redis', check: async () => void (await redis.ping()) }] : []),
    ],
    registry,
    maxBodyBytes: config.server.maxBodyBytes,
    trustProxy: config.server.trustProxy,
    tetto: marketplace.kind === 'local' ? { marketplace, store: createTettoStore(database.db) } : undefined,
    tettoRequestsPerMinute: config.marketplace.tettoRequestsPerMinute,
    adminDistDir: config.server.adminDistDir,
    publicUrl: config.server.publicUrl,
  });

  if (!config.billing.stripe)
    logger.info('billing is offline (no STRIPE_SECRET_KEY): usage is recorded and kept pending');
  if (config.worker.enabled) {
    worker = createJobWorker(services, config, logger);
    worker.start();
  }

  let server: Server | undefined;
  return {
    config,
    logger,
    database,
    services,
    app,
    agentServer,
    worker,
    firstAdmin,
    listen: () =>
      new Promise((resolve, reject) => {
        const s = app.listen(config.server.port, config.server.host, (error?: Error) => {
          if (error) return reject(error);
          const { port } = s.address() as AddressInfo;
          resolve(config.server.publicUrl ?? `http://${config.server.host}:${port}`);
        });
        answerClientErrors(s);
        server = s;
      }),
    async stop() {
      if (server) await closeServer(server, config.server.shutdownTimeoutMs);
      await worker?.stop();
      await agentServer?.close();
      redis?.disconnect();
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
 * The remote Tetto platform when TETTO_API_URL is set (TDK signs the payments it builds), else the
 * local marketplace, whose protocol wallet is generated and kept on first start when not configured.
 */
async function createMarketplace(
  config: Config['marketplace'],
  database: DatabaseHandle,
  chain: SolanaPort,
): Promise<LocalMarketplace | TettoPlatformMarketplace> {
  if (config.tetto) {
    return createTettoPlatformMarketplace({
      baseUrl: config.tetto.apiUrl,
      protocolWallet: config.tetto.protocolWallet,
      chain,
    });
  }
  const protocolWallet =
    config.protocolWallet ??
    (await instanceSetting(database.db, 'protocol_wallet', () => generateKeypair().publicKey)).value;
  return createLocalMarketplace({ db: database.db, chain, protocolWallet });
}

/**
 * The first admin: from TDK_ADMIN_EMAIL/TDK_ADMIN_PASSWORD when set; on the embedded default with
 * nothing set, admin@tdk.local with a generated password that the CLI prints once. Only ever a new
 * account: one that already has the email may be anyone's (emails are not verified).
 */
async function bootstrapFirstAdmin(
  config: Config,
  database: DatabaseHandle,
  logger: Logger,
): Promise<Tdk['firstAdmin']> {
  const { email, password } = config.bootstrapAdmin;
  if (!email && config.database.kind !== 'pglite') return undefined;
  if (await hasAdmin(database.db)) return undefined;
  const result = await ensureAdmin(
    database.db,
    { email: email ?? 'admin@tdk.local', ...(password ? { password } : {}) },
    { promoteExisting: false },
  );
  if (!result.admin) {
    logger.warn(
      { user: result.userId, email: result.email },
      `An account with ${result.email} exists and is not an admin: start-up does not promote it, as anyone may have signed up with this email. If it is yours, promote it explicitly: tdk admin create --email ${result.email} --password <a new password>`,
    );
    return undefined;
  }
  logger.info({ user: result.userId, email: result.email }, 'first admin account ready');
  return { email: result.email, generatedPassword: result.generatedPassword };
}

/** The embedded chain's treasury starts with its float in USDC and enough SOL for thousands of wallets. */
function embeddedTreasurySeed(floatUsdc: bigint) {
  return { usdc: floatUsdc, lamports: 100_000_000_000n };
}

/**
 * Starts the example agents on a free port and registers them in the local marketplace (their
 * endpoint changes with the port; their owner wallets are kept, so payments keep one destination).
 */
async function startExampleAgents(database: DatabaseHandle): Promise<AgentServer> {
  const agentServer = await startAgentServer({});
  const register = async (spec: AgentSpec, endpoint: string) =>
    upsertAgent(database.db, {
      name: spec.name,
      description: spec.description,
      endpoint_url: endpoint,
      price_base: spec.priceBase.toString(),
      owner_wallet: (
        await instanceSetting(database.db, `agent_owner:${spec.name}`, () => generateKeypair().publicKey)
      ).value,
      agent_type: spec.agentType,
      input_schema: spec.inputSchema,
      output_schema: spec.outputSchema,
      example_inputs: spec.exampleInputs,
    });
  await register(memoryAgent, agentServer.agents.memory);
  await register(answersAgent, agentServer.agents.answers);
  return agentServer;
}
