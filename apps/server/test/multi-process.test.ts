import { type LocalRpcServer, startLocalRpcServer } from '@tdk/chain';
import type { DatabaseHandle } from '@tdk/db';
import { createTestDatabase, testDatabaseKinds } from '@tdk/db/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fundTreasury, rpcChainEnv } from './support/chain';
import { jsonClient } from './support/http';
import { postgresEnv, startTdkProcess, type TdkProcess, until } from './support/processes';

const admin = { email: 'ops@example.com', password: 'a long admin password' };
const password = 'a long developer password';
const freeCallsPerMinute = 30;

/**
 * Three `tdk start` processes on one Postgres (and Redis when TEST_REDIS_URL is set) and one chain
 * (the RPC adapter against one local LiteSVM-backed RPC server): every guarantee that a single
 * process gets from its own memory must hold when requests land on any of them.
 */
describe.runIf(testDatabaseKinds.includes('postgres'))(
  'three server processes, one database, one chain',
  () => {
    let db: DatabaseHandle;
    let rpc: LocalRpcServer;
    const servers: TdkProcess[] = [];
    let apis: Array<ReturnType<typeof jsonClient>>;
    let registered = 0;

    beforeAll(async () => {
      [db, rpc] = await Promise.all([createTestDatabase('postgres'), startLocalRpcServer()]);
      const env = {
        ...postgresEnv(db),
        WALLET_ENCRYPTION_KEY: 'c3'.repeat(32),
        LOG_LEVEL: 'warn',
        ...rpcChainEnv(rpc),
        TDK_ADMIN_EMAIL: admin.email,
        TDK_ADMIN_PASSWORD: admin.password,
        TDK_TIERS: JSON.stringify({
          free: { callsPerMinute: freeCallsPerMinute },
          // Funded for 4 calls and already under its refill threshold: top-ups race across processes.
          paid: {
            callsPerMinute: 1000,
            initialFunding: { usdc: '4000', lamports: '50000000' },
            usdcTopUp: { below: '100000', to: '1000000' },
            solTopUp: { below: '0', to: '0' },
          },
        }),
        ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
      };
      // All at once on a fresh database: they race to migrate, create the treasury and the first admin.
      servers.push(
        ...(await Promise.all([startTdkProcess(env), startTdkProcess(env), startTdkProcess(env)])),
      );
      apis = servers.map((s) => jsonClient(s.url));
      await fundTreasury(db.db, rpc);
    }, 120_000);
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await rpc?.close();
      await db?.close();
    });

    /** A developer with one key, signed up on one process; the key works on every process. */
    async function developer(tier: 'free' | 'paid' | 'pro' = 'free') {
      const api = apis[registered++ % apis.length]!;
      const email = `dev.${registered}@example.com`;
      const signedUp = await api('POST', '/api/tdk/auth/register', { body: { email, password } });
      const userId = signedUp.body.user.id as string;
      await db.db.updateTable('app_user').set({ tier }).where('id', '=', userId).execute();
      const session = signedUp.body.session.token as string;
      const key = await api('POST', '/api/tdk/keys/generate', { token: session, body: { name: 'load' } });
      expect(key.status, JSON.stringify(key.body)).toBe(200);
      return {
        session,
        apiKey: key.body.secret as string,
        keyId: key.body.key.id as string,
        walletId: key.body.key.wallet.id as string,
      };
    }

    /** Request i goes to process i mod 3. */
    const spread = (i: number) => apis[i % apis.length]!;
    const call = (i: number, apiKey: string, body: unknown, headers: Record<string, string> = {}) =>
      spread(i)('POST', '/api/tdk/v1/call', { token: apiKey, body, headers });
    const list = { agent_id: 'memory', input: { action: 'list' } };

    const movements = async (walletId: string, kind: string) =>
      Number(
        (
          await db.db
            .selectFrom('ledger_movement')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('wallet_id', '=', walletId)
            .where('kind', '=', kind)
            .executeTakeFirstOrThrow()
        ).n,
      );

    it('started together on a fresh database, made one treasury and one first admin', async () => {
      const singles = await sql<{ treasuries: string; admins: string }>`
        select (select count(*) from wallet where kind = 'treasury') as treasuries,
          (select count(*) from app_user where email = ${admin.email} and role = 'admin') as admins`.execute(
        db.db,
      );
      expect(singles.rows[0]).toEqual({ treasuries: '1', admins: '1' });
    });

    it(`holds the per-key rate limit globally: ${freeCallsPerMinute} of 200 calls spread over 3 processes`, async () => {
      const dev = await developer('free');
      const statuses: number[] = [];
      // 12 clients at a time, each request to the next process.
      let next = 0;
      await Promise.all(
        Array.from({ length: 12 }, async () => {
          for (let i = next++; i < 200; i = next++) statuses.push((await call(i, dev.apiKey, list)).status);
        }),
      );
      const ok = statuses.filter((s) => s === 200).length;
      expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
      // Tolerance 0: the shared store (Redis, else Postgres) counts atomically.
      expect(ok).toBe(freeCallsPerMinute);
      expect(await movements(dev.walletId, 'agent_payment')).toBe(ok);
    });

    it('sees a revoke made on one process on all of them within a second', async () => {
      const dev = await developer('free');
      const usage = (api: ReturnType<typeof jsonClient>) =>
        api('GET', '/api/tdk/usage/current', { token: dev.apiKey });
      // Every process has the key cached as valid.
      for (const api of apis) expect((await usage(api)).status).toBe(200);
      const revoked = await apis[1]!('POST', `/api/tdk/keys/${dev.keyId}/revoke`, { token: dev.session });
      expect(revoked.status).toBe(200);
      const at = performance.now();
      const seenAfterMs = await Promise.all(
        apis.map(async (api) => {
          for (;;) {
            const res = await usage(api);
            if (res.status === 401) {
              expect(res.body.error.code).toBe('api_key_revoked');
              return performance.now() - at;
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }),
      );
      // TDK_KEY_CACHE_MS (1 s) after the revoke committed, plus one poll and one request on a busy machine.
      expect(Math.max(...seenAfterMs)).toBeLessThan(1_500);
      console.info(`revoke seen after ${seenAfterMs.map((ms) => `${Math.round(ms)} ms`).join(', ')}`);
    });

    it('pays once for one Idempotency-Key sent 12 times at once to all processes', async () => {
      const dev = await developer('free');
      const body = { agent_id: 'memory', input: { action: 'store', key: 'order', value: '42' } };
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => call(i, dev.apiKey, body, { 'idempotency-key': 'order-42' })),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      expect(new Set(answers.map((a) => a.body.payment.tx_signature)).size).toBe(1);
      expect(await movements(dev.walletId, 'agent_payment')).toBe(1);
    });

    it('tops a low wallet up once while 30 calls race on it across processes', async () => {
      const dev = await developer('paid');
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => call(i, dev.apiKey, list)));
      // A call that finds the wallet empty while another request refills it waits for the refill.
      expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
      expect(await movements(dev.walletId, 'agent_payment')).toBe(30);
      await until('the background refill to finish', async () => {
        const { n } = await db.db
          .selectFrom('job')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('unique_key', '=', `wallet.top_up:${dev.walletId}`)
          .where('status', 'in', ['queued', 'running'])
          .executeTakeFirstOrThrow();
        return Number(n) === 0;
      });
      expect(await movements(dev.walletId, 'top_up')).toBe(1);
      console.info('top-up race: 30 of 30 paid, 1 top-up');
    });

    it('runs each of 30 async calls spread over the processes exactly once', async () => {
      const dev = await developer('pro');
      const accepted = await Promise.all(
        Array.from({ length: 30 }, (_, i) => call(i, dev.apiKey, { ...list, async: true })),
      );
      expect(accepted.map((a) => a.status)).toEqual(Array(30).fill(202));
      const ids = accepted.map((a) => a.body.id as string);
      await until('every async call to finish', async () => {
        const { n } = await db.db
          .selectFrom('call')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('id', 'in', ids)
          .where('status', 'in', ['queued', 'paying', 'running'])
          .executeTakeFirstOrThrow();
        return Number(n) === 0;
      });
      const calls = await db.db.selectFrom('call').select('status').where('id', 'in', ids).execute();
      expect(calls.map((c) => c.status)).toEqual(Array(30).fill('succeeded'));
      const payments = await sql<{ call_id: string; n: number }>`
      select details->>'call_id' as call_id, count(*)::int as n from ledger_movement
      where kind = 'agent_payment' and wallet_id = ${dev.walletId} group by 1`.execute(db.db);
      expect(payments.rows.map((p) => p.n)).toEqual(Array(30).fill(1));
      const jobs = await sql<{ attempts: number; status: string }>`
      select attempts, status from job where kind = 'call.run' and payload->>'call_id' in (${sql.join(ids)})`.execute(
        db.db,
      );
      expect(jobs.rows).toEqual(Array(30).fill({ attempts: 1, status: 'succeeded' }));
    });

    it('ends with ledger = chain and calls = ledger, no transaction booked twice', async () => {
      const api = apis[2]!;
      const token = (await api('POST', '/api/tdk/auth/login', { body: admin })).body.session.token as string;
      const report = await api('GET', '/api/tdk/admin/reconciliation', { token });
      expect(report.status).toBe(200);
      expect(report.body.differences).toEqual([]);
      expect(report.body.usage.differences).toEqual([]);
      const doubles = await sql<{ n: number }>`
      select count(*)::int as n from (select chain_signature from ledger_movement
      where chain_signature is not null group by 1 having count(*) > 1) d`.execute(db.db);
      expect(doubles.rows[0]!.n).toBe(0);
    });
  },
);
