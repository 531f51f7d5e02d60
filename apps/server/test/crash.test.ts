import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase, type DatabaseHandle } from '@tdk/db';
import { createTestDatabase, testDatabaseKinds } from '@tdk/db/testing';
import { type StripeStandIn, startStripeStandIn } from '@tdk/stripe-standin';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonClient } from './support/http';
import { postgresEnv } from './support/processes';

const bin = new URL('../bin/tdk.mjs', import.meta.url).pathname;
const admin = { email: 'ops@example.com', password: 'a long admin password' };

/** `tdk start` as a real process, so it can be killed the hard way; resolves once it serves. */
function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [bin, 'start'], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/API docs\s+(http:\/\/\S+)\/docs/);
      if (match?.[1]) resolve({ child, url: match[1] });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => reject(new Error(`tdk start ended (${code ?? signal}):\n${output}`)));
  });
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const signIn = async (api: ReturnType<typeof jsonClient>) =>
  (await api('POST', '/api/tdk/auth/login', { body: admin })).body.session.token as string;

/** A pro-tier developer's two keys, set up through the API. */
async function developerKeys(api: ReturnType<typeof jsonClient>): Promise<string[]> {
  const developer = { email: 'load@example.com', password: 'a long developer password' };
  const registered = await api('POST', '/api/tdk/auth/register', { body: developer });
  const userId = registered.body.user.id as string;
  await api('PATCH', `/api/tdk/admin/users/${userId}`, { token: await signIn(api), body: { tier: 'pro' } });
  return Promise.all(
    [1, 2].map(async () => {
      const res = await api('POST', '/api/tdk/keys/generate', { token: registered.body.session.token });
      return res.body.secret as string;
    }),
  );
}

/**
 * Calls from 8 clients, each request with its own Idempotency-Key, until the process dies under them:
 * killed after 40 answers, once `inFlight` (where it can be asked while the server runs) sees a call
 * mid-way, so the kill leaves something to recover.
 */
async function callUntilKilled(
  server: { child: ChildProcess; url: string },
  keys: string[],
  inFlight: () => Promise<boolean> = async () => true,
): Promise<void> {
  const api = jsonClient(server.url);
  let stop = false;
  let answered = 0;
  const load = Array.from({ length: 8 }, async (_, lane) => {
    for (let i = 0; !stop; i++) {
      const res = await api('POST', '/api/tdk/v1/call', {
        token: keys[lane % keys.length]!,
        headers: { 'idempotency-key': `lane-${lane}-${i}` },
        body: { agent_id: 'memory', input: { action: 'store', key: `k${lane}-${i}`, value: 'v' } },
      }).catch(() => undefined);
      if (res?.status === 200) answered += 1;
      if (!res) return;
    }
  });
  await until('calls under way, one of them mid-way', async () => answered >= 40 && (await inFlight()));
  server.child.kill('SIGKILL');
  stop = true;
  await Promise.all(load);
}

const count = async (db: DatabaseHandle, query: string) =>
  Number((await sql<{ n: string }>`${sql.raw(query)}`.execute(db.db)).rows[0]!.n);

// A kill needs a server in its own process, and a database that outlives it: real Postgres.
describe.runIf(testDatabaseKinds.includes('postgres'))('a server killed mid-load', () => {
  let db: DatabaseHandle;
  let stripe: StripeStandIn;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    stripe = await startStripeStandIn();
    env = {
      ...postgresEnv(db),
      WALLET_ENCRYPTION_KEY: 'b7'.repeat(32),
      TDK_PORT: '0',
      LOG_LEVEL: 'warn',
      TDK_ADMIN_EMAIL: admin.email,
      TDK_ADMIN_PASSWORD: admin.password,
      STRIPE_SECRET_KEY: 'sk_test_crash',
      STRIPE_WEBHOOK_SECRET: 'whsec_crash',
      STRIPE_API_URL: stripe.url,
      BILLING_REPORT_INTERVAL_SECONDS: '1',
      BILLING_DELIVERY_INTERVAL_SECONDS: '1',
      TDK_RECOVERY_AFTER_SECONDS: '2',
    };
  });
  afterAll(async () => {
    await stripe?.close();
    await db?.close();
  });

  it('restarts, settles what was in flight, and usage = ledger = chain = Stripe', async () => {
    const first = await startServer(env);
    const midWay = `select count(*) as n from call where status in ('paying', 'running')`;
    await callUntilKilled(
      first,
      await developerKeys(jsonClient(first.url)),
      async () => (await count(db, midWay)) > 0,
    );

    // What the kill left in doubt: calls mid-way, perhaps a payment sent and not booked.
    expect(await count(db, midWay)).toBeGreaterThan(0);

    const second = await startServer(env);
    try {
      await until(
        'in-flight calls and transfers settled, and all usage delivered',
        async () =>
          (await count(
            db,
            `select count(*) as n from call where status in ('queued', 'paying', 'running')`,
          )) === 0 &&
          (await count(db, `select count(*) as n from chain_intent where status = 'pending'`)) === 0 &&
          (await count(db, `select count(*) as n from meter_report where status <> 'delivered'`)) === 0,
      );
      const again = jsonClient(second.url);
      const report = await again('GET', '/api/tdk/admin/reconciliation', { token: await signIn(again) });
      expect(report.status).toBe(200);
      expect(report.body.differences).toEqual([]);
      expect(report.body.usage.differences).toEqual([]);
      expect(report.body.usage.undelivered_reports).toBe(0);

      const billed = await count(
        db,
        `select coalesce(sum(developer_cost), 0) as n from call where status = 'succeeded'`,
      );
      expect(billed).toBeGreaterThan(0);
      expect([...stripe.meterTotals('tdk_api_call').values()].reduce((a, b) => a + b, 0)).toBe(billed);
      expect(
        await count(
          db,
          'select count(*) as n from (select chain_signature from ledger_movement where chain_signature is not null group by 1 having count(*) > 1) d',
        ),
      ).toBe(0);
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((resolve) => second.child.on('exit', resolve));
    }
  }, 120_000);
});

// The embedded default: PGlite in a folder and the chain whose state it keeps, killed the hard way.
describe('the embedded default killed mid-load', () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tdk-crash-'));
    env = {
      TDK_DATA_DIR: dataDir,
      WALLET_ENCRYPTION_KEY: 'c8'.repeat(32),
      TDK_PORT: '0',
      LOG_LEVEL: 'warn',
      TDK_ADMIN_EMAIL: admin.email,
      TDK_ADMIN_PASSWORD: admin.password,
      TDK_RECOVERY_AFTER_SECONDS: '2',
    };
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('opens its folder again, settles what was in flight, and ledger = chain', async () => {
    const first = await startServer(env);
    await callUntilKilled(first, await developerKeys(jsonClient(first.url)));

    // Read while no server holds the folder: the kill left calls in flight.
    const folder = await connectDatabase({ kind: 'pglite', dataDir: join(dataDir, 'db') });
    const inFlight = await count(
      folder,
      `select count(*) as n from call where status in ('paying', 'running')`,
    );
    await folder.close();
    expect(inFlight).toBeGreaterThan(0);

    const second = await startServer(env);
    try {
      const api = jsonClient(second.url);
      const token = await signIn(api);
      const open = async () => {
        const lists = await Promise.all(
          (['queued', 'paying', 'running'] as const).map((status) =>
            api('GET', `/trpc/admin.calls.list?input=${encodeURIComponent(JSON.stringify({ status }))}`, {
              token,
            }),
          ),
        );
        return lists.reduce((n, list) => n + (list.body.result.data.items as unknown[]).length, 0);
      };
      await until('in-flight calls settled', async () => (await open()) === 0);
      const report = await api('GET', '/api/tdk/admin/reconciliation', { token });
      expect(report.status).toBe(200);
      expect(report.body.differences).toEqual([]);
      expect(report.body.usage.differences).toEqual([]);
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((resolve) => second.child.on('exit', resolve));
    }
  }, 120_000);
});
