import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type LocalRpcServer, startLocalRpcServer } from '@tdk/chain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { fundTreasury, rpcChainEnv } from './support/chain';
import { adminSession, newDeveloper } from './support/customers';
import { jsonClient } from './support/http';
import { countMovements } from './support/ledger';
import { until } from './support/processes';
import { type RpcProxy, startRpcProxy } from './support/rpc-proxy';

/**
 * Faults outside TDK — a chain that refuses or stalls payments, agents that hang, crash or answer
 * nonsense — each met with a documented error, no double payment, and ledger = chain, calls =
 * ledger = usage afterwards. (The database going away: faults-database.test.ts; a server killed
 * mid-load: crash.test.ts; Stripe failing: billing.test.ts.)
 */
describe('faults of the chain and of agents', () => {
  let rpc: LocalRpcServer;
  let proxy: RpcProxy;
  let server: TestServer;
  let api: ReturnType<typeof jsonClient>;
  beforeAll(async () => {
    rpc = await startLocalRpcServer();
    proxy = await startRpcProxy(rpc.url);
    server = await startTestServer('pglite-memory', {
      ...rpcChainEnv(rpc, proxy.url),
      // Settles payments left in doubt 2 s after their last change (a call here takes about 1 s).
      TDK_RECOVERY_AFTER_SECONDS: '2',
    });
    await fundTreasury(server.tdk.database.db, rpc);
    api = jsonClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
    await rpc?.close();
  });

  const memory = { agent_id: 'memory', input: { action: 'list' } };
  const call = (apiKey: string, body: unknown, idempotencyKey: string) =>
    api('POST', '/api/tdk/v1/call', { token: apiKey, body, headers: { 'idempotency-key': idempotencyKey } });
  const payments = async (callId: string) =>
    Number(
      (
        await sql<{ n: string }>`select count(*) as n from ledger_movement
          where kind = 'agent_payment' and details->>'call_id' = ${callId}`.execute(server.tdk.database.db)
      ).rows[0]!.n,
    );
  const record = async (callId: string, apiKey: string) =>
    (await api('GET', `/api/tdk/v1/calls/${callId}`, { token: apiKey })).body;
  const sent = () => proxy.methods.filter((m) => m === 'sendTransaction').length;

  it('a chain refusing payments: 503, nothing charged, and the retry pays once', async () => {
    const dev = await newDeveloper(server);
    const before = await server.tdk.services.chain.balances(dev.wallet);
    proxy.reject(['simulateTransaction', 'sendTransaction']);
    const refused = await call(dev.apiKey, memory, 'refused-1');
    expect(refused.status, JSON.stringify(refused.body)).toBe(503);
    expect(refused.body.error).toMatchObject({
      code: 'service_unavailable',
      details: { reason: 'unreachable' },
    });
    expect(await server.tdk.services.chain.balances(dev.wallet)).toEqual(before);

    proxy.restore();
    const retried = await call(dev.apiKey, memory, 'refused-1');
    expect(retried.status).toBe(200);
    expect(await payments(retried.body.id)).toBe(1);
  });

  it('a payment stalled until its blockhash expires: 503, nothing charged', async () => {
    const dev = await newDeveloper(server);
    rpc.dropSubmissions(1_000);
    const sentBefore = sent();
    const pending = call(dev.apiKey, memory, 'stalled-1');
    await until('the payment sent', async () => sent() > sentBefore);
    rpc.advanceBlocks(151);
    const stalled = await pending;
    rpc.dropSubmissions(0);
    expect(stalled.status, JSON.stringify(stalled.body)).toBe(503);
    expect(stalled.body.error).toMatchObject({ code: 'service_unavailable', details: { reason: 'expired' } });
    const retried = await call(dev.apiKey, memory, 'stalled-1');
    expect(retried.status).toBe(200);
    expect(await payments(retried.body.id)).toBe(1);
  });

  it('a payment whose outcome the chain stops telling: "outcome unknown" until recovery settles it', async () => {
    // One lands and its answer is lost; one is refused on submission (a node that may or may not
    // have passed it on); one is dropped. Each leaves its call open, and replays say so.
    const [landed, refused, dropped] = await Promise.all([
      newDeveloper(server),
      newDeveloper(server),
      newDeveloper(server),
    ]);
    const inDoubt = async (apiKey: string, idempotencyKey: string, fault: () => void) => {
      const sentBefore = sent();
      const pending = call(apiKey, memory, idempotencyKey);
      await until('the payment sent', async () => sent() > sentBefore);
      fault();
      const answer = await pending;
      proxy.restore();
      expect(answer.status, JSON.stringify(answer.body)).toBe(503);
      expect(answer.body.error.details).toMatchObject({
        outcome: 'unknown',
        tx_signature: expect.any(String),
      });
      const replay = await call(apiKey, memory, idempotencyKey);
      expect(replay.body).toEqual({
        error: { ...answer.body.error, request_id: replay.body.error.request_id },
      });
      return answer.body.error.details.call_id as string;
    };
    const landedCall = await inDoubt(landed.apiKey, 'doubt-landed', () => proxy.down());
    proxy.reject(['sendTransaction']);
    const refusedCall = await inDoubt(refused.apiKey, 'doubt-refused', () => undefined);
    rpc.dropSubmissions(1_000);
    const droppedCall = await inDoubt(dropped.apiKey, 'doubt-dropped', () => proxy.down());
    rpc.dropSubmissions(0);
    // Both unlanded payments can never land once their blockhash has expired.
    rpc.advanceBlocks(151);

    const calls = [
      [landedCall, landed.apiKey],
      [refusedCall, refused.apiKey],
      [droppedCall, dropped.apiKey],
    ] as const;
    await until('recovery to settle the three calls', async () => {
      const statuses = await Promise.all(calls.map(async ([id, key]) => (await record(id, key)).status));
      return statuses.every((s) => s === 'failed');
    });
    // What each call had reserved is given back: all of it for the two never paid; for the one paid
    // but not billed, all but what the agent was paid (1,000 of the 1,500 reserved), which still
    // counts toward the cap, as the call counts as a call.
    const usage = async (apiKey: string) => {
      const { body } = await api('GET', '/api/tdk/usage/current', { token: apiKey });
      return [body.quota.used_today, body.spend.this_month];
    };
    expect(await usage(landed.apiKey)).toEqual([1, 1000]);
    expect(await usage(refused.apiKey)).toEqual([0, 0]);
    expect(await usage(dropped.apiKey)).toEqual([0, 0]);
    // Landed: booked and recorded, not billed; a retry replays that outcome instead of paying again.
    expect(await record(landedCall, landed.apiKey)).toMatchObject({
      error: { code: 'agent_failed', details: { reason: 'interrupted' } },
      cost: { total: 0 },
    });
    expect(await payments(landedCall)).toBe(1);
    expect((await call(landed.apiKey, memory, 'doubt-landed')).status).toBe(502);
    expect(await payments(landedCall)).toBe(1);
    // Never landed: closed unpaid, and the same Idempotency-Key pays once now.
    for (const [id, dev, key] of [
      [refusedCall, refused, 'doubt-refused'],
      [droppedCall, dropped, 'doubt-dropped'],
    ] as const) {
      expect(await payments(id)).toBe(0);
      const retried = await call(dev.apiKey, memory, key);
      expect(retried.status).toBe(200);
      expect(await payments(retried.body.id)).toBe(1);
    }
  });

  describe('agents that hang, crash, or answer nonsense', () => {
    let crashing: Server;
    beforeAll(async () => {
      // An agent whose process dies mid-request: the connection is reset, no answer at all.
      crashing = createServer((req) => req.socket.resetAndDestroy());
      await new Promise<void>((resolve) => crashing.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => crashing.close(() => resolve())));

    async function register(name: string, endpoint: string, timeoutMs?: number): Promise<string> {
      const res = await api('POST', '/api/tdk/admin/agents', {
        token: await adminSession(server),
        body: {
          name,
          description: `Test fixture: ${name}`,
          endpoint_url: endpoint,
          price_base: 2000,
          owner_wallet: server.tdk.services.newKeypair().publicKey,
          ...(timeoutMs ? { timeout_ms: timeoutMs } : {}),
          input_schema: { type: 'object' },
          output_schema: { type: 'object', properties: { result: { type: 'string' } } },
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.id as string;
    }

    it.each([
      ['hangs', 504, 'agent_timeout'],
      ['crashes', 502, 'agent_failed'],
      ['answers nonsense', 502, 'agent_failed'],
    ] as const)('an agent that %s: %i %s, the payment recorded and not billed', async (fault, status, code) => {
      const fixtures = server.tdk.agentServer!.fixtures;
      const agentId =
        fault === 'hangs'
          ? await register('hangs', fixtures.slow, 300)
          : fault === 'crashes'
            ? await register('crashes', `http://127.0.0.1:${(crashing.address() as AddressInfo).port}/`)
            : await register('nonsense', fixtures.invalidOutput);
      const dev = await newDeveloper(server);
      const res = await call(
        dev.apiKey,
        { agent_id: agentId, input: { delay_ms: 5_000 } },
        `agent-${agentId}`,
      );
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error.code).toBe(code);
      const callId = res.body.error.details.call_id as string;
      expect(await record(callId, dev.apiKey)).toMatchObject({
        status: 'failed',
        error: { code },
        cost: { agent: 2000, total: 0 },
        payment: { tx_signature: res.body.error.details.payment.tx_signature },
      });
      expect(await payments(callId)).toBe(1);
      // Not billed, but what the agent was paid counts toward the key's spend cap: an agent that
      // takes payment and fails is no way around it.
      const usage = await api('GET', '/api/tdk/usage/current', { token: dev.apiKey });
      expect(usage.body.spend.this_month).toBe(2000);
      // The same Idempotency-Key replays the failure; it never pays again.
      expect(
        (await call(dev.apiKey, { agent_id: agentId, input: { delay_ms: 5_000 } }, `agent-${agentId}`))
          .status,
      ).toBe(status);
      expect(await payments(callId)).toBe(1);
    });

    it('stops a key at its spend cap even when every agent it pays fails', async () => {
      const agentId = await register('nonsense-capped', server.tdk.agentServer!.fixtures.invalidOutput);
      const dev = await newDeveloper(server);
      // 2,000 to the agent, 3,000 a call billed: the first call fits a cap of 4,000, a second would not.
      const patched = await api('PATCH', `/api/tdk/keys/${dev.keyId}`, {
        token: dev.session,
        body: { monthly_spend_cap: 4000 },
      });
      expect(patched.status).toBe(200);
      const attempt = () => call(dev.apiKey, { agent_id: agentId, input: {} }, `capped-${Math.random()}`);
      expect((await attempt()).status).toBe(502);
      const refused = await attempt();
      expect(refused.status).toBe(402);
      expect(refused.body.error.code).toBe('spend_cap_exceeded');
      expect(await countMovements(server, dev.walletId)).toBe(1);
    });
  });

  it('ends with ledger = chain and calls = ledger = usage', async () => {
    const report = await api('GET', '/api/tdk/admin/reconciliation', { token: await adminSession(server) });
    expect(report.status).toBe(200);
    expect(report.body.differences).toEqual([]);
    expect(report.body.usage.differences).toEqual([]);
  });
});
