import { randomBytes } from 'node:crypto';
import { createTestDatabase } from '@tdk/db/testing';
import { createTdk, loadConfig, type Tdk } from '@tdk/server';
import type { KyselyPlugin } from 'kysely';

export type DatabaseKind = 'pglite-memory' | 'postgres';

/** A running TDK with one developer key, and the two ways to reach the memory agent. */
export interface BenchTdk {
  /** TDK's base URL, as the SDK takes it. */
  url: string;
  /** The developer key: its secret and its id. */
  apiKey: string;
  keyId: string;
  /** The key verifier the composition root built: the one every paid call's authentication goes through. */
  keys: Tdk['services']['apiKeys'];
  /** How long that verifier caches a key (`TDK_KEY_CACHE_MS`). */
  keyCacheMs: number;
  /** `POST` here with `callBody` and `callHeaders`: the paid call through TDK. */
  callUrl: string;
  callHeaders: Record<string, string>;
  callBody: string;
  /** `POST` here with `directBody`: the same agent, no TDK in between. */
  agentUrl: string;
  directBody: string;
  stop(): Promise<void>;
}

const input = { action: 'retrieve', key: 'k' };
/** The paid call every path makes. */
export const callRequest = { agent_id: 'memory', input };

// Limits out of the way: the benchmark measures the call path, not the tier table.
const tiers = {
  free: {
    callsPerMinute: 1_000_000,
    includedCallsPerDay: null,
    monthlySpendCap: null,
    initialFunding: { usdc: '100000000000', lamports: '5000000000' },
    usdcTopUp: { below: '0', to: '0' },
  },
};

/**
 * TDK in this process, built by the production composition root over a fresh database: in-memory
 * PGlite, or a new Postgres database (dropped on stop) on the server BENCH_DATABASE_URL names.
 * `plugin` sees every query TDK makes through Kysely.
 */
export async function startBenchTdk(kind: DatabaseKind, plugin?: KyselyPlugin): Promise<BenchTdk> {
  // createTestDatabase takes its admin URL from TEST_DATABASE_URL.
  if (kind === 'postgres') process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL;
  const created = await createTestDatabase(kind);
  const database = plugin ? { ...created, db: created.db.withPlugin(plugin) } : created;
  const config = loadConfig({
    TDK_PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: 'memory:', // replaced by the database made above
    WALLET_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    TREASURY_FLOAT_USDC: '1000000000000',
    TDK_TIERS: JSON.stringify(tiers),
  });
  const tdk = await createTdk({ ...config, database: database.target }, { database });
  try {
    return await connect(tdk, await tdk.listen());
  } catch (error) {
    // Stopping also drops a Postgres database made for this run.
    await tdk.stop();
    throw error;
  }
}

/** Registers a developer with a key, the way the README walks a newcomer through it. */
async function connect(tdk: Tdk, url: string): Promise<BenchTdk> {
  if (!tdk.agentServer) throw new Error('TDK started without its example agents');
  const { session } = await post(`${url}/api/tdk/auth/register`, {
    email: 'bench@example.com',
    password: 'a long benchmark passphrase',
  });
  const key = await post(`${url}/api/tdk/keys/generate`, { name: 'bench' }, session.token);
  const bench: BenchTdk = {
    url,
    apiKey: key.secret,
    keyId: key.key.id,
    keys: tdk.services.apiKeys,
    keyCacheMs: tdk.config.keyCacheMs,
    callUrl: `${url}/api/tdk/v1/call`,
    callHeaders: { 'content-type': 'application/json', authorization: `Bearer ${key.secret}` },
    callBody: JSON.stringify(callRequest),
    agentUrl: tdk.agentServer.agents.memory,
    directBody: JSON.stringify({
      input,
      tetto_context: {
        caller_wallet: key.key.wallet.address,
        caller_agent_id: null,
        intent_id: 'bench',
        timestamp: Date.now(),
        version: '1.0',
      },
    }),
    stop: () => tdk.stop(),
  };
  // One paid call first: it funds the key's wallet, and a broken setup fails here with its reason.
  await post(bench.callUrl, callRequest, key.secret);
  return bench;
}

// biome-ignore lint/suspicious/noExplicitAny: setup answers are read field by field, and a wrong shape fails the run
async function post(url: string, body: unknown, token?: string): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}
