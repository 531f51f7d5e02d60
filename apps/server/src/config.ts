import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthSettings } from '@tdk/api';
import { type KekEntry, parseKek, resolveTiers, type Tier, type TierName } from '@tdk/core';
import type { DatabaseTarget } from '@tdk/db';
import { z } from 'zod';

/**
 * The only place that reads the environment. Every setting has an embedded default, so an empty
 * environment starts a complete local TDK; `.env.example` documents each variable.
 */
const amount = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)])
  .transform((v) => BigInt(v));
const tierOverrideSchema = z
  .object({
    callsPerMinute: z.number().int().positive(),
    includedCallsPerDay: z.number().int().positive().nullable(),
    monthlySpendCap: amount.nullable(),
    initialFunding: z.object({ usdc: amount, lamports: amount }),
    usdcTopUp: z.object({ below: amount, to: amount }),
    accountRequestsPerMinute: z.number().int().positive(),
    maxActiveKeys: z.number().int().positive(),
    solTopUp: z.object({ below: amount, to: amount }),
    markupBps: z.number().int().min(0).max(100_000),
  })
  .partial()
  .strict();
/** `TDK_TIERS` overrides parts of the default tier table, e.g. `{"free":{"callsPerMinute":50}}`; amounts in base units. */
const tierOverridesSchema = z
  .object({ free: tierOverrideSchema, paid: tierOverrideSchema, pro: tierOverrideSchema })
  .partial()
  .strict();

/**
 * Whom Express believes about the client's address (`X-Forwarded-For`): nobody, the last N hops, or
 * the listed proxies. Never "everyone": a client writes the header's left end itself, and the login
 * limits and the audit log go by that address.
 */
export type TrustProxy = false | number | string[];

const isProxyAddress = (entry: string) => {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
};

const envSchema = z.object({
  TDK_HOST: z.string().min(1).default('127.0.0.1'),
  TDK_PORT: z.coerce.number().int().min(0).max(65_535).default(8787),
  TDK_PUBLIC_URL: z.url().optional(),
  TDK_DATA_DIR: z.string().min(1).default('.tdk'),
  DATABASE_URL: z
    .string()
    .regex(/^(postgres(ql)?:\/\/.+|memory:)$/, 'expected a postgres:// URL or "memory:"')
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
  DATABASE_PREPARED_STATEMENTS: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TDK_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(50_000_000).default(1_000_000),
  TDK_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(300_000).default(10_000),
  TDK_TRUST_PROXY: z
    .string()
    .default('false')
    .transform((text, ctx): TrustProxy => {
      const value = text.trim();
      if (value === 'false' || value === '') return false;
      if (/^[1-9]\d?$/.test(value)) return Number(value);
      const entries = value.split(',').map((entry) => entry.trim());
      if (entries.every(isProxyAddress)) return entries;
      ctx.addIssue({
        code: 'custom',
        message:
          value === 'true'
            ? 'true would believe any X-Forwarded-For a client writes; give the number of proxies in front of TDK (e.g. 1) or their addresses'
            : 'expected false, the number of proxies in front of TDK (1–99), or their addresses: IPs, CIDR ranges, loopback, linklocal, uniquelocal, comma-separated',
      });
      return z.NEVER;
    }),
  TDK_TIERS: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected JSON' });
        return z.NEVER;
      }
    })
    .pipe(tierOverridesSchema)
    .optional(),
  TDK_SESSION_TTL_DAYS: z.coerce.number().positive().max(365).default(30),
  TDK_LOGIN_FREE_ATTEMPTS: z.coerce.number().int().min(0).max(100).default(3),
  TDK_LOGIN_MAX_FAILS: z.coerce.number().int().min(1).max(1_000).default(10),
  TDK_LOGIN_BLOCK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  TDK_LOGIN_DELAY_MS: z.coerce.number().int().min(0).max(10_000).default(250),
  TDK_LOGIN_MAX_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(3_000),
  TDK_LOGIN_IP_FAILS_PER_DAY: z.coerce.number().int().min(1).max(1_000_000).default(100),
  TDK_SIGNUPS_PER_IP_PER_HOUR: z.coerce.number().int().min(1).max(1_000_000).default(20),
  WALLET_ENCRYPTION_KEY: z.string().optional(),
  WALLET_ENCRYPTION_KEY_FILE: z.string().optional(),
  WALLET_ENCRYPTION_KEY_VERSION: z.coerce.number().int().min(1).max(999_999_999).default(1),
  WALLET_ENCRYPTION_PREVIOUS_KEYS: z
    .string()
    .regex(/^\d+:[0-9a-fA-F]{64}(,\d+:[0-9a-fA-F]{64})*$/, 'expected "version:64-hex-chars", comma-separated')
    .optional(),
  SOLANA_RPC_URL: z.url().optional(),
  SOLANA_NETWORK: z.enum(['localnet', 'devnet', 'mainnet-beta']).default('devnet'),
  SOLANA_USDC_MINT: z
    .string()
    .regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'expected a base58 address')
    .optional(),
  SOLANA_PRIORITY_FEE_MICROLAMPORTS: z.coerce.number().int().min(0).max(10_000_000).default(0),
  TREASURY_SECRET_KEY: z.string().optional(),
  TREASURY_FLOAT_USDC: z.string().regex(/^\d+$/, 'expected an integer in micro-USDC').default('10000000000'),
  ALERT_WEBHOOK_URL: z.url().optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, 'expected a redis:// URL')
    .optional(),
  TDK_PROTOCOL_WALLET: z
    .string()
    .regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'expected a base58 address')
    .optional(),
  TDK_EXAMPLE_AGENTS: z.enum(['true', 'false']).optional(),
  TETTO_API_URL: z.url().optional(),
  TETTO_PROTOCOL_WALLET: z
    .string()
    .regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'expected a base58 address')
    .optional(),
  TDK_KEY_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  TDK_TETTO_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(300),
  TDK_ADMIN_EMAIL: z.string().optional(),
  TDK_ADMIN_PASSWORD: z.string().optional(),
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_/, 'expected a Stripe secret key (sk_… or rk_…)')
    .optional(),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_/, 'expected a webhook signing secret (whsec_…)')
    .optional(),
  STRIPE_API_URL: z.url().optional(),
  BILLING_REPORT_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(3_600),
  BILLING_DELIVERY_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3_600).default(60),
  TDK_WORKER: z.enum(['true', 'false']).default('true'),
  TDK_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  TDK_ASYNC_CALL_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  TDK_RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(3_600),
  TDK_ADMIN_DIST: z.string().min(1).optional(),
  TDK_RECOVERY_AFTER_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
});

export interface Config {
  server: {
    host: string;
    port: number;
    /** The URL users reach this server at; printed at start and used in the OpenAPI document. */
    publicUrl: string | undefined;
    maxBodyBytes: number;
    shutdownTimeoutMs: number;
    trustProxy: TrustProxy;
    /** The admin app's production build, served at /admin (default: this checkout's apps/admin/dist). */
    adminDistDir: string;
  };
  dataDir: string;
  database: DatabaseTarget;
  log: { level: z.infer<typeof envSchema>['LOG_LEVEL'] };
  tiers: Record<TierName, Tier>;
  auth: AuthSettings;
  /** Where the wallet vault's key-encryption keys come from (read by the composition root). */
  walletKek: WalletKekSource;
  chain: ChainConfig;
  treasury: { floatUsdc: bigint; importSecretKey: string | undefined };
  alertWebhookUrl: string | undefined;
  /** Shared rate-limit counters across processes; without it they live in Postgres (or memory on PGlite). */
  redisUrl: string | undefined;
  marketplace: {
    /** Receives the local marketplace's protocol fees; generated and kept on first start when unset. */
    protocolWallet: string | undefined;
    /** Run the example agents (memory, answers) in process and register them. */
    exampleAgents: boolean;
    /** The remote Tetto platform, used instead of the local marketplace when set. */
    tetto: { apiUrl: string; protocolWallet: string } | undefined;
    /** Per client IP, on the Tetto endpoints TDK serves for its local marketplace. */
    tettoRequestsPerMinute: number;
  };
  /** How long a verified API key is trusted before it is read again: bounds how late a revoke is seen elsewhere. */
  keyCacheMs: number;
  /** First admin, created at start when no admin exists yet. */
  bootstrapAdmin: { email: string | undefined; password: string | undefined };
  billing: {
    /** Stripe; without it billing is offline: usage is recorded and kept pending. */
    stripe: { secretKey: string; webhookSecret: string | undefined; apiUrl: string | undefined } | undefined;
    reportIntervalMs: number;
    deliveryIntervalMs: number;
  };
  /** The background job runner in this process (outbox delivery, async calls, top-ups, reconciliation). */
  worker: {
    enabled: boolean;
    /** Background jobs (usage delivery, top-ups, recovery, reconciliation) run at once. */
    concurrency: number;
    /** Async calls run at once, in slots of their own. */
    callConcurrency: number;
    reconcileIntervalMs: number;
    /** Calls and chain transactions left in doubt this long are settled from the chain. */
    recoveryAfterMs: number;
  };
}

export type WalletKekSource = {
  previous: KekEntry[];
} & (
  | { kind: 'given'; current: KekEntry }
  | { kind: 'file'; path: string; version: number }
  /** The embedded default: a key file in the data folder, generated on first start. */
  | { kind: 'embedded-file'; path: string }
  /** In-memory databases (tests): a throwaway key, gone with the data. */
  | { kind: 'ephemeral' }
);

export type ChainConfig =
  | { kind: 'embedded' }
  | {
      kind: 'rpc';
      url: string;
      network: 'localnet' | 'devnet' | 'mainnet-beta';
      usdcMint: string | undefined;
      priorityFeeMicroLamports: number;
    };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as in most twelve-factor tooling.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `  ${name}: ${issue.message} (got ${JSON.stringify(redactValue(name, present[name]))})`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.TDK_DATA_DIR);
  const database = databaseTarget(e.DATABASE_URL, dataDir, {
    poolSize: e.DATABASE_POOL_SIZE,
    preparedStatements: e.DATABASE_PREPARED_STATEMENTS,
  });
  return {
    server: {
      host: e.TDK_HOST,
      port: e.TDK_PORT,
      publicUrl: e.TDK_PUBLIC_URL?.replace(/\/$/, ''),
      maxBodyBytes: e.TDK_MAX_BODY_BYTES,
      shutdownTimeoutMs: e.TDK_SHUTDOWN_TIMEOUT_MS,
      trustProxy: e.TDK_TRUST_PROXY,
      adminDistDir: e.TDK_ADMIN_DIST
        ? resolve(e.TDK_ADMIN_DIST)
        : fileURLToPath(new URL('../../admin/dist', import.meta.url)),
    },
    dataDir,
    database,
    log: { level: e.LOG_LEVEL },
    tiers: resolveTiers(e.TDK_TIERS),
    auth: {
      sessionTtlMs: e.TDK_SESSION_TTL_DAYS * 24 * 60 * 60 * 1000,
      login: {
        freeAttempts: e.TDK_LOGIN_FREE_ATTEMPTS,
        maxConsecutiveFails: e.TDK_LOGIN_MAX_FAILS,
        blockSeconds: e.TDK_LOGIN_BLOCK_SECONDS,
        delayBaseMs: e.TDK_LOGIN_DELAY_MS,
        maxDelayMs: e.TDK_LOGIN_MAX_DELAY_MS,
        ipFailsPerDay: e.TDK_LOGIN_IP_FAILS_PER_DAY,
      },
      signupsPerIpPerHour: e.TDK_SIGNUPS_PER_IP_PER_HOUR,
    },
    walletKek: walletKekSource(e, database, dataDir),
    chain: e.SOLANA_RPC_URL
      ? {
          kind: 'rpc',
          url: e.SOLANA_RPC_URL,
          network: e.SOLANA_NETWORK,
          usdcMint: e.SOLANA_USDC_MINT,
          priorityFeeMicroLamports: e.SOLANA_PRIORITY_FEE_MICROLAMPORTS,
        }
      : { kind: 'embedded' },
    treasury: { floatUsdc: BigInt(e.TREASURY_FLOAT_USDC), importSecretKey: e.TREASURY_SECRET_KEY },
    alertWebhookUrl: e.ALERT_WEBHOOK_URL,
    redisUrl: e.REDIS_URL,
    marketplace: {
      protocolWallet: e.TDK_PROTOCOL_WALLET,
      exampleAgents: e.TDK_EXAMPLE_AGENTS
        ? e.TDK_EXAMPLE_AGENTS === 'true'
        : !e.SOLANA_RPC_URL && !e.TETTO_API_URL,
      tetto: tettoPlatform(e),
      tettoRequestsPerMinute: e.TDK_TETTO_REQUESTS_PER_MINUTE,
    },
    keyCacheMs: e.TDK_KEY_CACHE_MS,
    bootstrapAdmin: { email: e.TDK_ADMIN_EMAIL, password: e.TDK_ADMIN_PASSWORD },
    billing: {
      stripe: e.STRIPE_SECRET_KEY
        ? { secretKey: e.STRIPE_SECRET_KEY, webhookSecret: e.STRIPE_WEBHOOK_SECRET, apiUrl: e.STRIPE_API_URL }
        : undefined,
      reportIntervalMs: e.BILLING_REPORT_INTERVAL_SECONDS * 1000,
      deliveryIntervalMs: e.BILLING_DELIVERY_INTERVAL_SECONDS * 1000,
    },
    worker: {
      enabled: e.TDK_WORKER === 'true',
      concurrency: e.TDK_WORKER_CONCURRENCY,
      callConcurrency: e.TDK_ASYNC_CALL_CONCURRENCY,
      reconcileIntervalMs: e.TDK_RECONCILE_INTERVAL_SECONDS * 1000,
      recoveryAfterMs: e.TDK_RECOVERY_AFTER_SECONDS * 1000,
    },
  };
}

function walletKekSource(
  e: z.infer<typeof envSchema>,
  database: DatabaseTarget,
  dataDir: string,
): WalletKekSource {
  const kek = (name: string, hex: string) => {
    try {
      return parseKek(hex);
    } catch (error) {
      throw new ConfigError(`Invalid configuration:\n  ${name}: ${(error as Error).message}`);
    }
  };
  const previous = (e.WALLET_ENCRYPTION_PREVIOUS_KEYS ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => {
      const [version, hex] = pair.split(':');
      return { version: Number(version), key: kek('WALLET_ENCRYPTION_PREVIOUS_KEYS', hex ?? '') };
    });
  const version = e.WALLET_ENCRYPTION_KEY_VERSION;
  if (e.WALLET_ENCRYPTION_KEY) {
    return {
      kind: 'given',
      current: { version, key: kek('WALLET_ENCRYPTION_KEY', e.WALLET_ENCRYPTION_KEY) },
      previous,
    };
  }
  if (e.WALLET_ENCRYPTION_KEY_FILE)
    return { kind: 'file', path: resolve(e.WALLET_ENCRYPTION_KEY_FILE), version, previous };
  if (database.kind === 'pglite')
    return { kind: 'embedded-file', path: resolve(dataDir, 'wallet-kek.json'), previous };
  if (database.kind === 'pglite-memory') return { kind: 'ephemeral', previous };
  // A shared database outlives any one machine: a key generated here would strand every wallet.
  throw new ConfigError(
    'Invalid configuration:\n  WALLET_ENCRYPTION_KEY: required with DATABASE_URL (64 hex chars, or WALLET_ENCRYPTION_KEY_FILE)',
  );
}

/** Tetto's protocol wallets, by network: where the fee of every payment Tetto builds must go. */
const tettoProtocolWallets: Partial<Record<string, string>> = {
  'mainnet-beta': 'CYSnefexbvrRU6VxzGfvZqKYM4UixupvDeZg3sUSWm84',
  devnet: 'BubFsAG8cSEH7NkLpZijctRpsZkCiaWqCdRfh8kUpXEt',
};

function tettoPlatform(e: z.infer<typeof envSchema>): Config['marketplace']['tetto'] {
  if (!e.TETTO_API_URL) return undefined;
  // SOLANA_NETWORK names the network of SOLANA_RPC_URL; the embedded chain has no Tetto of its own.
  const protocolWallet =
    e.TETTO_PROTOCOL_WALLET ?? (e.SOLANA_RPC_URL ? tettoProtocolWallets[e.SOLANA_NETWORK] : undefined);
  if (!protocolWallet) {
    throw new ConfigError(
      'Invalid configuration:\n  TETTO_PROTOCOL_WALLET: required with TETTO_API_URL on the embedded chain and on localnet',
    );
  }
  return { apiUrl: e.TETTO_API_URL, protocolWallet };
}

function databaseTarget(
  url: string | undefined,
  dataDir: string,
  pool: { poolSize: number; preparedStatements: boolean },
): DatabaseTarget {
  if (url === undefined) return { kind: 'pglite', dataDir: resolve(dataDir, 'db') };
  if (url === 'memory:') return { kind: 'pglite-memory' };
  return { kind: 'postgres', url, ...pool };
}

/** Error messages name the variable but never echo a value that may be a secret. */
function redactValue(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return /URL|KEY|SECRET|PASSWORD|TOKEN/.test(name) ? '[redacted]' : value;
}
