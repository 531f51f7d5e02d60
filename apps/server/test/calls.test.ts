import { reconcileBalances } from '@tdk/api';
import { testDatabaseKinds } from '@tdk/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { adminSession, newDeveloper } from './support/customers';
import { type JsonResponse, jsonClient } from './support/http';
import { countMovements } from './support/ledger';

describe.each(testDatabaseKinds)('paid calls on %s', (kind) => {
  let server: TestServer;
  let api: ReturnType<typeof jsonClient>;
  beforeAll(async () => {
    // The pro tier here holds three calls' worth and refills below two and a half.
    server = await startTestServer(kind, {
      TDK_TIERS: JSON.stringify({
        pro: {
          initialFunding: { usdc: '3000', lamports: '50000000' },
          usdcTopUp: { below: '2500', to: '3000' },
        },
      }),
    });
    api = jsonClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const call = (apiKey: string, body: unknown, headers: Record<string, string> = {}) =>
    api('POST', '/api/tdk/v1/call', { token: apiKey, body, headers });

  it('lets a newcomer store and retrieve a memory, with the cost and the transaction signature', async () => {
    const dev = await newDeveloper(server);
    expect(dev.apiKey).toMatch(/^tdk_test_[1-9A-HJ-NP-Za-km-z]{30,}$/);
    const stored = await call(dev.apiKey, {
      agent_id: 'memory',
      input: { action: 'store', key: 'greeting', value: 'hello' },
    });
    expect(stored.status, JSON.stringify(stored.body)).toBe(200);
    expect(stored.body).toMatchObject({
      id: expect.stringMatching(/^call_/),
      status: 'succeeded',
      cost: { agent: 1000, markup: 500, total: 1500, currency: 'USDC', decimals: 6, display: '$0.0015' },
      payment: { tx_signature: expect.stringMatching(/^[1-9A-HJ-NP-Za-km-z]{64,88}$/), network: 'embedded' },
    });
    expect(Number(stored.headers.get('ratelimit-remaining'))).toBeGreaterThan(0);
    const retrieved = await call(dev.apiKey, {
      agent_id: 'memory',
      input: { action: 'retrieve', key: 'greeting' },
    });
    expect(retrieved.body.output).toMatchObject({ found: true, value: 'hello' });

    const record = await api('GET', `/api/tdk/v1/calls/${stored.body.id}`, { token: dev.apiKey });
    expect(record.body).toMatchObject({
      status: 'succeeded',
      payment: { tx_signature: stored.body.payment.tx_signature },
    });
    expect(await server.tdk.services.chain.transactionStatus(stored.body.payment.tx_signature)).toBe(
      'confirmed',
    );

    const usage = await api('GET', '/api/tdk/usage/current', { token: dev.apiKey });
    expect(usage.body).toMatchObject({
      tier: 'free',
      limits: { calls_per_minute: 100, included_calls_per_day: 1000, monthly_spend_cap: 10_000_000 },
      quota: { used_today: 2, remaining_today: 998 },
      spend: { this_month: 3000, remaining: 10_000_000 - 3000 },
      wallet: { address: dev.wallet, usdc: 10_000_000 - 2000 },
    });
    // The account's days: the last 30 by default, today with its two calls.
    const today = new Date().toISOString().slice(0, 10);
    const daily = await api('GET', '/api/tdk/usage/daily', { token: dev.apiKey });
    expect(daily.body.items).toHaveLength(30);
    expect(daily.body.items.at(-1)).toEqual({ date: today, calls: 2, failed: 0, cost: 3000 });
    const range = await api('GET', `/api/tdk/usage/daily?from=2026-01-01&to=2026-01-03`, {
      token: dev.apiKey,
    });
    expect(range.body.items.map((d: { date: string; calls: number }) => [d.date, d.calls])).toEqual([
      ['2026-01-01', 0],
      ['2026-01-02', 0],
      ['2026-01-03', 0],
    ]);
    for (const query of [
      'from=2026-01-03&to=2026-01-01',
      'from=2024-01-01&to=2026-01-01',
      'from=yesterday',
    ]) {
      const refused = await api('GET', `/api/tdk/usage/daily?${query}`, { token: dev.apiKey });
      expect([refused.status, refused.body.error.code], query).toEqual([400, 'invalid_input']);
    }
    // The key list shows the wallet but never the secret.
    const keys = await api('GET', '/api/tdk/keys', { token: dev.session });
    expect(keys.body.items[0]).toMatchObject({
      id: dev.keyId,
      wallet: { address: dev.wallet },
      status: 'active',
    });
    expect(JSON.stringify(keys.body)).not.toContain(dev.apiKey);
  });

  it("isolates wallets: two developers' memories with the same key stay apart", async () => {
    const [alice, bob] = await Promise.all([newDeveloper(server), newDeveloper(server)]);
    await call(alice.apiKey, {
      agent_id: 'memory',
      input: { action: 'store', key: 'secret', value: 'alice' },
    });
    await call(bob.apiKey, { agent_id: 'memory', input: { action: 'store', key: 'secret', value: 'bob' } });
    const a = await call(alice.apiKey, { agent_id: 'memory', input: { action: 'retrieve', key: 'secret' } });
    const b = await call(bob.apiKey, { agent_id: 'memory', input: { action: 'retrieve', key: 'secret' } });
    expect(a.body.output.value).toBe('alice');
    expect(b.body.output.value).toBe('bob');
    // And neither can read the other's call record.
    expect((await api('GET', `/api/tdk/v1/calls/${a.body.id}`, { token: bob.apiKey })).status).toBe(404);
  });

  it("lists the account's calls newest first, a page at a time, by status and agent", async () => {
    const dev = await newDeveloper(server);
    const made: string[] = [];
    for (const key of ['a', 'b', 'c']) {
      const res = await call(dev.apiKey, { agent_id: 'memory', input: { action: 'store', key, value: key } });
      expect(res.status).toBe(200);
      made.unshift(res.body.id);
    }
    const list = (query: string) => api('GET', `/api/tdk/v1/calls?${query}`, { token: dev.apiKey });
    const first = await list('limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items.map((c: { id: string }) => c.id)).toEqual(made.slice(0, 2));
    const second = await list(`limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.items.map((c: { id: string }) => c.id)).toEqual(made.slice(2));
    expect(second.body.next_cursor).toBeNull();
    // Each item is the call's record, as GET /v1/calls/{id} shows it.
    expect(first.body.items[0]).toEqual(
      (await api('GET', `/api/tdk/v1/calls/${made[0]}`, { token: dev.apiKey })).body,
    );

    const agentId = first.body.items[0].agent_id as string;
    expect((await list(`status=succeeded&agent_id=${agentId}`)).body.items).toHaveLength(3);
    // By name too, as calls name their agent.
    expect((await list('agent_id=memory')).body.items).toHaveLength(3);
    expect((await list('agent_id=no-such-agent')).body).toEqual({ items: [], next_cursor: null });
    expect((await list('status=failed')).body.items).toEqual([]);
    // What the database could not read is the caller's mistake, not a 500.
    const rolledOver = Buffer.from('2026-02-31T00:00:00Z|call_x').toString('base64url');
    for (const query of ['status=nonsense', 'agent_id=%00', `cursor=${rolledOver}`, 'limit=0']) {
      expect((await list(query)).status, query).toBe(400);
    }
  });

  it('refuses invalid input with 400 before any money moves; an unknown agent is 404', async () => {
    const dev = await newDeveloper(server);
    const before = await server.tdk.services.chain.balances(dev.wallet);
    const bad = await call(dev.apiKey, { agent_id: 'memory', input: { action: 'explode', key: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_input');
    expect(bad.body.error.details.issues.length).toBeGreaterThan(0);
    // Each mismatch once, though every branch of the memory agent's `oneOf` reports it.
    const issues = bad.body.error.details.issues.map((i: { path: string; message: string }) =>
      JSON.stringify(i),
    );
    expect(new Set(issues).size).toBe(issues.length);
    // A field the call does not know is refused with its name, before any money moves.
    const unknownField = await call(dev.apiKey, { agent_id: 'memory', input: {}, asynch: true });
    expect(unknownField.status).toBe(400);
    expect(JSON.stringify(unknownField.body.error.details.issues)).toContain('asynch');
    // No input at all says so, rather than what the agent's schema makes of nothing.
    const missing = await call(dev.apiKey, { agent_id: 'memory' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.issues).toEqual([
      expect.objectContaining({ path: 'input', message: expect.stringMatching(/^Required/) }),
    ]);
    expect(await server.tdk.services.chain.balances(dev.wallet)).toEqual(before);
    expect(await countMovements(server, dev.walletId)).toBe(0);

    const unknown = await call(dev.apiKey, { agent_id: 'no-such-agent', input: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('agent_not_found');
    expect((await call('tdk_test_notarealkey', { agent_id: 'memory', input: {} })).body.error.code).toBe(
      'invalid_api_key',
    );
    expect((await call(dev.session, { agent_id: 'memory', input: {} })).status).toBe(401);
  });

  it("lists what a call costs on each tier, and a call costs what its caller's tier says", async () => {
    const listed = await api('GET', '/api/tdk/agents/memory');
    // The memory agent's price, 1,000, with each tier's markup of 50%.
    expect(listed.body).toMatchObject({
      price_base: 1000,
      developer_price_base: { free: 1500, paid: 1500, pro: 1500 },
    });
    const dev = await newDeveloper(server);
    const paid = await call(dev.apiKey, { agent_id: 'memory', input: { action: 'list' } });
    expect(paid.body.cost.total).toBe(listed.body.developer_price_base.free);
  });

  it('treats a disabled agent as unknown on GET /api/tdk/agents/{id}, by id and by name', async () => {
    const admin = await adminSession(server);
    const name = `retired-${kind}`;
    const fields = {
      name,
      description: 'Listed, then disabled',
      endpoint_url: server.tdk.agentServer!.agents.memory,
      price_base: 1000,
      owner_wallet: server.tdk.services.newKeypair().publicKey,
      input_schema: { type: 'object' },
      output_schema: { type: 'object' },
    };
    const registered = await api('POST', '/api/tdk/admin/agents', { token: admin, body: fields });
    expect(registered.status, JSON.stringify(registered.body)).toBe(200);
    const id = registered.body.id as string;
    // Listed while active (the list, unlike a lookup by id or name, is never cached).
    const listed = await api('GET', '/api/tdk/agents');
    expect(listed.body.items.find((a: { id: string }) => a.id === id)).toMatchObject({
      name,
      price_base: 1000,
      status: 'active',
    });

    const disabled = await api('PATCH', `/api/tdk/admin/agents/${id}`, {
      token: admin,
      body: { status: 'disabled' },
    });
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    for (const idOrName of [id, name]) {
      const res = await api('GET', `/api/tdk/agents/${idOrName}`);
      expect(res.status, idOrName).toBe(404);
      expect(res.body.error.code).toBe('agent_not_found');
    }
    expect((await api('GET', '/api/tdk/agents')).body.items.map((a: { id: string }) => a.id)).not.toContain(
      id,
    );
    expect((await api('GET', `/api/agents/${id}`)).status).toBe(404);

    // Prices are JSON integers, so one past 2^53 − 1 is refused at registration, as digits or a number.
    for (const price_base of ['9007199254740992', 2 ** 53]) {
      const tooDear = await api('POST', '/api/tdk/admin/agents', {
        token: admin,
        body: { ...fields, name: `${name}-dear`, price_base },
      });
      expect(tooDear.status, JSON.stringify(tooDear.body)).toBe(400);
      expect(tooDear.body.error.code).toBe('invalid_input');
    }
  });

  it('stops a revoked key within a second on every server process', async () => {
    // A second process on the same database (its own key cache); it runs no example agents of its own.
    const second = await startTestServer(
      kind,
      { TDK_EXAMPLE_AGENTS: 'false' },
      { shareDatabaseWith: server },
    );
    try {
      const dev = await newDeveloper(server);
      const input = { agent_id: 'memory', input: { action: 'list' } };
      const first = await call(dev.apiKey, input);
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      const onSecond = jsonClient(second.url);
      expect((await onSecond('GET', '/api/tdk/usage/current', { token: dev.apiKey })).status).toBe(200);

      const revoked = await api('POST', `/api/tdk/keys/${dev.keyId}/revoke`, { token: dev.session });
      expect(revoked.body.status).toBe('revoked');
      expect((await call(dev.apiKey, input)).status).toBe(401);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const late = await onSecond('POST', '/api/tdk/v1/call', { token: dev.apiKey, body: input });
      expect(late.status).toBe(401);
      expect(late.body.error.code).toBe('api_key_revoked');
    } finally {
      await second.stop();
    }
  });

  it('keeps a low wallet paying: refilled from the treasury, exactly as the ledger says', async () => {
    const dev = await newDeveloper(server, { tier: 'pro' });
    for (let i = 0; i < 6; i++) {
      const res = await call(dev.apiKey, { agent_id: 'memory', input: { action: 'list' } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    await new Promise((resolve) => setTimeout(resolve, 200)); // let a background refill land
    expect(await countMovements(server, dev.walletId, 'top_up')).toBeGreaterThanOrEqual(1);
    expect(await countMovements(server, dev.walletId)).toBe(6);
    expect((await reconcileBalances(server.tdk.services)).differences).toEqual([]);
  });

  it("never lets one developer see or touch another's keys", async () => {
    const [alice, mallory] = await Promise.all([newDeveloper(server), newDeveloper(server)]);
    const theirs = await api('GET', '/api/tdk/keys', { token: mallory.session });
    expect(theirs.body.items.map((k: { id: string }) => k.id)).toEqual([mallory.keyId]);
    for (const action of ['revoke', 'roll']) {
      const res = await api('POST', `/api/tdk/keys/${alice.keyId}/${action}`, { token: mallory.session });
      expect(res.status, action).toBe(404);
    }
    // An API key is not a session: it cannot manage keys.
    expect((await api('GET', '/api/tdk/keys', { token: mallory.apiKey })).status).toBe(401);
    expect((await call(alice.apiKey, { agent_id: 'memory', input: { action: 'list' } })).status).toBe(200);
  });

  it('rolls a key: the new secret works, the old one only during its grace period', async () => {
    const dev = await newDeveloper(server);
    const rolled = await api('POST', `/api/tdk/keys/${dev.keyId}/roll`, {
      token: dev.session,
      body: { grace_seconds: 0 },
    });
    expect(rolled.status).toBe(200);
    expect(rolled.body.key.wallet.address).toBe(dev.wallet);
    const input = { agent_id: 'memory', input: { action: 'list' } };
    expect((await call(rolled.body.secret, input)).status).toBe(200);
    expect((await call(dev.apiKey, input)).status).toBe(401);
  });

  it('replays a call with the same Idempotency-Key, sent 10 times at once, and pays once', async () => {
    const dev = await newDeveloper(server);
    const body = { agent_id: 'memory', input: { action: 'store', key: 'once', value: 'v' } };
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => call(dev.apiKey, body, { 'idempotency-key': 'order-42' })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(new Set(answers.map((a) => a.body.payment.tx_signature)).size).toBe(1);
    expect(await countMovements(server, dev.walletId)).toBe(1);
    // The nine retries say that they are replays; the call that ran does not.
    const marks = answers.map((a) => a.headers.get('idempotent-replayed'));
    expect([marks.filter((m) => m === 'true').length, marks.filter((m) => m === null).length]).toEqual([
      9, 1,
    ]);
    // The same body with its keys in another order is the same request: JSON does not order them.
    const reordered = await call(
      dev.apiKey,
      { input: { value: 'v', key: 'once', action: 'store' }, agent_id: 'memory' },
      { 'idempotency-key': 'order-42' },
    );
    expect(reordered.status).toBe(200);
    expect(reordered.body.id).toBe(answers[0]!.body.id);
    expect(await countMovements(server, dev.walletId)).toBe(1);

    const conflict = await call(
      dev.apiKey,
      { ...body, input: { ...body.input, value: 'other' } },
      { 'idempotency-key': 'order-42' },
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('idempotency_conflict');
  });

  it('records a paid call whose agent times out, answers 504, and bills nothing', async () => {
    const admin = await adminSession(server);
    const agentServer = server.tdk.agentServer!;
    const registered = await api('POST', '/api/tdk/admin/agents', {
      token: admin,
      body: {
        name: `slow-${kind}`,
        description: 'Answers late',
        endpoint_url: agentServer.fixtures.slow,
        price_base: 2000,
        owner_wallet: server.tdk.services.newKeypair().publicKey,
        timeout_ms: 300,
        input_schema: { type: 'object' },
        output_schema: { type: 'object' },
      },
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(200);
    const dev = await newDeveloper(server);
    const slowCall = { agent_id: registered.body.id, input: { delay_ms: 2_000 } };
    const res = await call(dev.apiKey, slowCall, { 'idempotency-key': 'slow-1' });
    expect(res.status).toBe(504);
    expect(res.body.error.code).toBe('agent_timeout');
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    // Its retry replays the failure, marked as a replay: nothing is paid again.
    const retried = await call(dev.apiKey, slowCall, { 'idempotency-key': 'slow-1' });
    expect([retried.status, retried.body.error, retried.headers.get('idempotent-replayed')]).toEqual([
      504,
      { ...res.body.error, request_id: retried.body.error.request_id },
      'true',
    ]);
    const callId = res.body.error.details.call_id as string;
    const record = await api('GET', `/api/tdk/v1/calls/${callId}`, { token: dev.apiKey });
    expect(record.body).toMatchObject({
      status: 'failed',
      error: { code: 'agent_timeout', details: res.body.error.details },
      cost: { agent: 2000, total: 0 },
    });
    expect(record.body.payment.tx_signature).toBe(res.body.error.details.payment.tx_signature);
    expect(await countMovements(server, dev.walletId)).toBe(1);
    expect((await reconcileBalances(server.tdk.services)).differences).toEqual([]);
  });
});

describe('limits and funds', () => {
  let server: TestServer;
  let api: ReturnType<typeof jsonClient>;
  beforeAll(async () => {
    server = await startTestServer('pglite-memory', {
      TDK_TIERS: JSON.stringify({
        free: {
          callsPerMinute: 1000,
          includedCallsPerDay: 1000,
          initialFunding: { usdc: '40000', lamports: '20000000' },
          usdcTopUp: { below: '0', to: '0' },
          solTopUp: { below: '0', to: '0' },
        },
        paid: { callsPerMinute: 3, includedCallsPerDay: null, maxActiveKeys: 2 },
        pro: { callsPerMinute: 1000, includedCallsPerDay: 2, monthlySpendCap: null },
      }),
    });
    api = jsonClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });
  const list = { agent_id: 'memory', input: { action: 'list' } };

  it('pays exactly 40 of 100 concurrent calls on a wallet funded for 40; ledger = chain = usage', async () => {
    const dev = await newDeveloper(server);
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => api('POST', '/api/tdk/v1/call', { token: dev.apiKey, body: list })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(40);
    expect(statuses.filter((s) => s === 402)).toHaveLength(60);
    expect(new Set(answers.filter((a) => a.status === 402).map((a) => a.body.error.code))).toEqual(
      new Set(['insufficient_funds']),
    );
    expect((await server.tdk.services.chain.balances(dev.wallet)).usdc).toBe(0n);

    const usage = await server.tdk.database.db
      .selectFrom('call')
      .select((eb) => [
        eb.fn.countAll<string>().as('n'),
        eb.cast<string>(eb.fn.sum('agent_cost'), 'text').as('agent'),
      ])
      .where('api_key_id', '=', dev.keyId)
      .where('status', '=', 'succeeded')
      .executeTakeFirstOrThrow();
    expect(Number(usage.n)).toBe(40);
    expect(usage.agent).toBe('40000');
    expect((await reconcileBalances(server.tdk.services)).differences).toEqual([]);
  });

  it('answers 429 with Retry-After and RateLimit headers past the per-minute rate', async () => {
    const dev = await newDeveloper(server, { tier: 'paid' });
    const statuses: number[] = [];
    let last: JsonResponse | undefined;
    for (let i = 0; i < 4; i++) {
      last = await api('POST', '/api/tdk/v1/call', { token: dev.apiKey, body: list });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last?.body.error.code).toBe('rate_limited');
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last?.headers.get('ratelimit-limit')).toBe('3');
    expect(last?.headers.get('ratelimit-remaining')).toBe('0');
  });

  it("holds an account to its tier's keys: so many active, so many new a day", async () => {
    const dev = await newDeveloper(server, { tier: 'paid' });
    const generate = () => api('POST', '/api/tdk/keys/generate', { token: dev.session, body: {} });
    expect((await generate()).status).toBe(200);
    const third = await generate();
    expect(third.status).toBe(403);
    expect(third.body.error).toMatchObject({ code: 'key_limit_reached', details: { max_active_keys: 2 } });
    expect(third.body.error.message).toMatch(/2 active keys/);
    // Revoking makes room among the active keys, not among the day's new ones.
    const revoked = await api('POST', `/api/tdk/keys/${dev.keyId}/revoke`, { token: dev.session });
    expect(revoked.status).toBe(200);
    const again = await generate();
    expect(again.status).toBe(403);
    expect(again.body.error.message).toMatch(/2 new keys a day/);
    const keys = await api('GET', '/api/tdk/keys', { token: dev.session });
    expect(keys.body.items).toHaveLength(2);
  });

  it("limits a key's reads of its calls and usage at its tier's rate, apart from its calls", async () => {
    const dev = await newDeveloper(server, { tier: 'paid' });
    const read = () => api('GET', '/api/tdk/usage/current', { token: dev.apiKey });
    const reads = [await read(), await read(), await read()];
    expect(reads.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(reads.map((r) => r.headers.get('ratelimit-remaining'))).toEqual(['2', '1', '0']);
    const refused = await api('GET', '/api/tdk/v1/calls', { token: dev.apiKey });
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toMatch(/3 reads per minute/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // The key's calls have their own allowance.
    expect((await api('POST', '/api/tdk/v1/call', { token: dev.apiKey, body: list })).status).toBe(200);
  });

  it('replays a call by its Idempotency-Key past the rate limit and after its agent is disabled', async () => {
    const admin = await adminSession(server);
    const agentServer = server.tdk.agentServer!;
    const registered = await api('POST', '/api/tdk/admin/agents', {
      token: admin,
      body: {
        name: 'memory-to-retire',
        description: 'The memory agent under another listing',
        endpoint_url: agentServer.agents.memory,
        price_base: 1000,
        owner_wallet: server.tdk.services.newKeypair().publicKey,
        input_schema: { type: 'object' },
        output_schema: { type: 'object' },
      },
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(200);
    const dev = await newDeveloper(server, { tier: 'paid' });
    const body = { agent_id: 'memory-to-retire', input: { action: 'list' } };
    const call = (key?: string, payload: unknown = body) =>
      api('POST', '/api/tdk/v1/call', {
        token: dev.apiKey,
        body: payload,
        headers: key ? { 'idempotency-key': key } : {},
      });
    const first = await call('order-1');
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(200);

    // Three calls a minute are spent: a new call is refused, the earlier one replays.
    expect((await call('order-2')).status).toBe(429);
    const replayed = await call('order-1');
    expect(replayed.status, JSON.stringify(replayed.body)).toBe(200);
    expect(replayed.body).toEqual(first.body);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');

    const disabled = await api('PATCH', `/api/tdk/admin/agents/${registered.body.id}`, {
      token: admin,
      body: { status: 'disabled' },
    });
    expect(disabled.status).toBe(200);
    expect((await call('order-1')).body).toEqual(first.body);
    // The same key with another body is still a conflict, whatever refuses the body itself.
    const conflict = await call('order-1', { ...body, input: { action: 'retrieve', key: 'x' } });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('idempotency_conflict');
    expect((await call('order-1', { agent_id: 'no-such-agent', input: {} })).status).toBe(409);
    expect(await countMovements(server, dev.walletId)).toBe(3);
  });

  it('answers 402 once the day quota is used, and charges nothing for it', async () => {
    const dev = await newDeveloper(server, { tier: 'pro' });
    expect((await api('POST', '/api/tdk/v1/call', { token: dev.apiKey, body: list })).status).toBe(200);
    expect((await api('POST', '/api/tdk/v1/call', { token: dev.apiKey, body: list })).status).toBe(200);
    const over = await api('POST', '/api/tdk/v1/call', { token: dev.apiKey, body: list });
    expect(over.status).toBe(402);
    expect(over.body.error.code).toBe('quota_exceeded');
    expect(over.body.error.details.resets_at).toMatch(/T00:00:00.000Z$/);
    expect(await countMovements(server, dev.walletId)).toBe(2);
  });

  it('answers 402 once the monthly spend cap would be passed, and gives back the refused call', async () => {
    // Free-tier calls to the memory agent cost 1,500 here: a cap of 3,000 holds two.
    const capped = await startTestServer('pglite-memory', {
      // The paid tier's cap is below one call's price: its very first call is over it.
      TDK_TIERS: JSON.stringify({ free: { monthlySpendCap: '3000' }, paid: { monthlySpendCap: '1000' } }),
    });
    try {
      const dev = await newDeveloper(capped);
      const capApi = jsonClient(capped.url);
      const call = () => capApi('POST', '/api/tdk/v1/call', { token: dev.apiKey, body: list });
      expect((await call()).status).toBe(200);
      expect((await call()).status).toBe(200);
      const over = await call();
      expect(over.status).toBe(402);
      expect(over.body.error).toMatchObject({
        code: 'spend_cap_exceeded',
        details: { monthly_spend_cap: '3000' },
      });
      expect(await countMovements(capped, dev.walletId)).toBe(2);
      // The refused call took neither spend nor one of the day's included calls.
      const usage = await capApi('GET', '/api/tdk/usage/current', { token: dev.apiKey });
      expect(usage.body).toMatchObject({
        quota: { used_today: 2 },
        spend: { this_month: 3000, remaining: 0 },
      });

      const small = await newDeveloper(capped, { tier: 'paid' });
      const first = await capApi('POST', '/api/tdk/v1/call', { token: small.apiKey, body: list });
      expect(first.status).toBe(402);
      expect(first.body.error.code).toBe('spend_cap_exceeded');
      expect(await countMovements(capped, small.walletId)).toBe(0);
      const smallUsage = await capApi('GET', '/api/tdk/usage/current', { token: small.apiKey });
      expect(smallUsage.body).toMatchObject({ quota: { used_today: 0 }, spend: { this_month: 0 } });
    } finally {
      await capped.stop();
    }
  });
});
