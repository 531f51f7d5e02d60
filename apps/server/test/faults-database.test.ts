import { type LocalRpcServer, startLocalRpcServer } from '@tdk/chain';
import type { DatabaseHandle } from '@tdk/db';
import { createTestDatabase, testDatabaseKinds } from '@tdk/db/testing';
import { type StripeStandIn, startStripeStandIn } from '@tdk/stripe-standin';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fundTreasury, rpcChainEnv } from './support/chain';
import { type JsonResponse, jsonClient } from './support/http';
import { startTdkProcess, type TdkProcess, until } from './support/processes';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';

const admin = { email: 'ops@example.com', password: 'a long admin password' };
/** How long the database stays away (at least; until callers have seen it too). */
const outageMs = 3_000;

const count = async (db: DatabaseHandle, query: string) =>
  Number((await sql<{ n: string }>`${sql.raw(query)}`.execute(db.db)).rows[0]!.n);

/**
 * A real `tdk start` whose only way to Postgres is a TCP proxy the test cuts for a few seconds
 * under load: callers get a clear 503, `/readyz` says why, the process heals by itself, and once
 * recovery has run, ledger = chain and usage = ledger = Stripe.
 */
describe.runIf(testDatabaseKinds.includes('postgres'))('the database unavailable under load', () => {
  let db: DatabaseHandle;
  let rpc: LocalRpcServer;
  let stripe: StripeStandIn;
  let proxy: TcpProxy;
  let server: TdkProcess;
  beforeAll(async () => {
    [db, rpc, stripe] = await Promise.all([
      createTestDatabase('postgres'),
      startLocalRpcServer(),
      startStripeStandIn(),
    ]);
    const direct = new URL(db.target.kind === 'postgres' ? db.target.url : '');
    proxy = await startTcpProxy(Number(direct.port));
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    server = await startTdkProcess({
      DATABASE_URL: viaProxy.toString(),
      WALLET_ENCRYPTION_KEY: 'd4'.repeat(32),
      LOG_LEVEL: 'error',
      ...rpcChainEnv(rpc),
      TDK_ADMIN_EMAIL: admin.email,
      TDK_ADMIN_PASSWORD: admin.password,
      STRIPE_SECRET_KEY: 'sk_test_outage',
      STRIPE_API_URL: stripe.url,
      BILLING_REPORT_INTERVAL_SECONDS: '1',
      BILLING_DELIVERY_INTERVAL_SECONDS: '1',
      // Longer than a call takes here (a payment confirms in about a second), so a live call is never overtaken.
      TDK_RECOVERY_AFTER_SECONDS: '5',
      ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
    });
    await fundTreasury(db.db, rpc);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
    await Promise.all([rpc?.close(), stripe?.close()]);
    await db?.close();
  });

  it('answers 503 while it is away, heals by itself, and loses or doubles nothing', async () => {
    const api = jsonClient(server.url);
    const registered = await api('POST', '/api/tdk/auth/register', {
      body: { email: 'outage@example.com', password: 'a long developer password' },
    });
    await db.db
      .updateTable('app_user')
      .set({ tier: 'pro' })
      .where('id', '=', registered.body.user.id)
      .execute();
    const key = await api('POST', '/api/tdk/keys/generate', { token: registered.body.session.token });
    const apiKey = key.body.secret as string;

    // 6 clients call without pause, each request with its own Idempotency-Key and each 503 followed by
    // its Retry-After, as a careful client does.
    const answers = new Map<string, JsonResponse>();
    let stop = false;
    let cutAt = Number.POSITIVE_INFINITY;
    let restoredAt = Number.POSITIVE_INFINITY;
    let duringOutage = 0;
    const call = (idempotencyKey: string) =>
      api('POST', '/api/tdk/v1/call', {
        token: apiKey,
        headers: { 'idempotency-key': idempotencyKey },
        body: { agent_id: 'memory', input: { action: 'store', key: idempotencyKey, value: 'v' } },
      });
    const load = Array.from({ length: 6 }, async (_, lane) => {
      for (let i = 0; !stop; i++) {
        const sentAt = Date.now();
        const res = await call(`lane-${lane}-${i}`);
        answers.set(`lane-${lane}-${i}`, res);
        if (sentAt >= cutAt && sentAt < restoredAt) duringOutage += 1;
        const retryAfter = Number(res.headers.get('retry-after') ?? 0);
        if (retryAfter > 0) await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
      }
    });
    const succeeded = () => [...answers.values()].filter((a) => a.status === 200).length;
    await until('calls under way', async () => succeeded() >= 12);

    proxy.cut();
    cutAt = Date.now();
    await until('/readyz to name the database', async () => {
      const ready = await api('GET', '/readyz');
      return ready.status === 503 && JSON.stringify(ready.body).includes('database');
    });
    expect((await api('GET', '/healthz')).status).toBe(200);
    await until(
      'callers to meet the outage',
      async () => Date.now() - cutAt >= outageMs && duringOutage >= 6,
      outageMs + 20_000,
    );
    proxy.restore();
    restoredAt = Date.now();
    const down = restoredAt - cutAt;

    await until('/readyz to recover', async () => (await api('GET', '/readyz')).status === 200);
    const readyAfterMs = Date.now() - restoredAt;
    const before = succeeded();
    await until('calls to succeed again', async () => succeeded() >= before + 6);
    stop = true;
    await Promise.all(load);

    // Only documented answers: success, or 503 service_unavailable (no 500, nothing unexplained).
    const refused = [...answers.values()].filter((a) => a.status !== 200);
    for (const a of refused) {
      expect(a.status, JSON.stringify(a.body)).toBe(503);
      expect(a.body.error.code).toBe('service_unavailable');
    }
    expect(refused.length).toBeGreaterThan(0);

    // Recovery settles what the outage left open: payments landed but not booked, calls not closed.
    const open = {
      calls: `select count(*) as n from call where status in ('queued', 'paying', 'running')`,
      transfers: `select count(*) as n from chain_intent where status = 'pending'`,
      reports: `select count(*) as n from meter_report where status <> 'delivered'`,
    };
    let stillOpen: Record<string, number> = {};
    const settled = async () => {
      stillOpen = Object.fromEntries(
        await Promise.all(Object.entries(open).map(async ([name, query]) => [name, await count(db, query)])),
      );
      return Object.values(stillOpen).every((n) => n === 0);
    };
    await until(() => `everything settled; still open: ${JSON.stringify(stillOpen)}`, settled);

    // A refused call retried with its own Idempotency-Key pays at most once: a fresh payment if the
    // first never paid, else the first one's stored outcome.
    const retries = await Promise.all(
      [...answers].filter(([, a]) => a.status !== 200).map(([idempotencyKey]) => call(idempotencyKey)),
    );
    for (const r of retries) expect([200, 502], JSON.stringify(r.body)).toContain(r.status);
    expect(
      await count(
        db,
        `select count(*) as n from (select c.idempotency_key from ledger_movement m join call c on c.id = m.details->>'call_id'
         where m.kind = 'agent_payment' group by 1 having count(*) > 1) d`,
      ),
    ).toBe(0);
    expect(
      await count(
        db,
        'select count(*) as n from (select chain_signature from ledger_movement where chain_signature is not null group by 1 having count(*) > 1) d',
      ),
    ).toBe(0);
    await until(() => `the retries settled and billed; still open: ${JSON.stringify(stillOpen)}`, settled);

    const token = (await api('POST', '/api/tdk/auth/login', { body: admin })).body.session.token as string;
    const report = await api('GET', '/api/tdk/admin/reconciliation', { token });
    expect(report.body.differences).toEqual([]);
    expect(report.body.usage.differences).toEqual([]);
    expect(report.body.usage.undelivered_reports).toBe(0);
    const billed = await count(
      db,
      `select coalesce(sum(developer_cost), 0) as n from call where status = 'succeeded'`,
    );
    expect([...stripe.meterTotals('tdk_api_call').values()].reduce((a, b) => a + b, 0)).toBe(billed);
    expect(server.child.exitCode).toBeNull();
    console.info(
      `database away ${down} ms: ${duringOutage} calls sent meanwhile, ${refused.length} answered 503 in all; ready again ${readyAfterMs} ms after it returned; retried: ${retries.filter((r) => r.status === 200).length} paid now, ${retries.filter((r) => r.status === 502).length} had paid before the cut`,
    );
  }, 120_000);

  it('says it is not ready while the network to the database is silent, and recovers', async () => {
    const api = jsonClient(server.url);
    await until('ready before the stall', async () => (await api('GET', '/readyz')).status === 200);
    proxy.stall();
    try {
      // Without a bound the probe would wait for as long as the network stays silent.
      const ready = await api('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.database).toBe('unavailable');
    } finally {
      proxy.restore();
    }
    await until('/readyz to recover', async () => (await api('GET', '/readyz')).status === 200);
  }, 60_000);
});
