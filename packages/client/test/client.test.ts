import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  AgentError,
  AuthenticationError,
  type CallEvent,
  ConflictError,
  InsufficientFundsError,
  InvalidInputError,
  NotFoundError,
  PermissionError,
  QuotaExceededError,
  RateLimitError,
  TDK,
  type TDKError,
} from '../src/index';
import { newDeveloper, updateUser } from './support/developer';

const { agents } = inject('tdk');

/** The error a promise rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<TDKError> {
  return promise.then(
    (value) => {
      throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
    },
    (error: TDKError) => error,
  );
}

/** A client for a new developer, and their key's spend so far (in base units). */
async function developer(tier?: 'paid' | 'pro') {
  const dev = await newDeveloper(tier);
  const tdk = new TDK({ apiKey: dev.apiKey, baseUrl: dev.baseUrl });
  const spent = async () => (await tdk.usage.current()).spend.this_month;
  return { ...dev, tdk, spent };
}

describe('tdk.call', () => {
  let dev: Awaited<ReturnType<typeof developer>>;
  beforeAll(async () => {
    dev = await developer();
  });

  it('calls an agent and returns its output with the cost, the payment and the receipt', async () => {
    const result = await dev.tdk.call<{ ok: true; key: string; stored_at: string }>('memory', {
      action: 'store',
      key: 'greeting',
      value: 'hello',
    });
    expect(result).toEqual({
      id: expect.stringMatching(/^call_/),
      agent_id: expect.any(String),
      status: 'succeeded',
      output: { ok: true, key: 'greeting', stored_at: expect.any(String) },
      cost: { agent: 1000, markup: 500, total: 1500, currency: 'USDC', decimals: 6, display: '$0.0015' },
      payment: { tx_signature: expect.any(String), network: 'embedded' },
      receipt_id: result.id,
      latency_ms: expect.any(Number),
    });
    expect(result.output.key).toBe('greeting');

    const record = await dev.tdk.calls.get(result.id);
    expect(record).toMatchObject({ id: result.id, status: 'succeeded', result, error: null });
    expect(record.payment).toEqual({ tx_signature: result.payment.tx_signature });
  });

  it('replays a call with the same Idempotency-Key without paying again, and refuses it for another input', async () => {
    const input = { action: 'store', key: 'once', value: 'v' };
    const before = await dev.spent();
    const first = await dev.tdk.call('memory', input, { idempotencyKey: 'order-42' });
    const again = await dev.tdk.call('memory', input, { idempotencyKey: 'order-42' });
    expect(again).toEqual(first);
    expect((await dev.spent()) - before).toBe(1500);

    const conflict = await failure(
      dev.tdk.call('memory', { ...input, value: 'other' }, { idempotencyKey: 'order-42' }),
    );
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict).toMatchObject({ code: 'idempotency_conflict', status: 409 });
  });

  it('runs an async call in the background: events as they happen, then the result', async () => {
    const accepted = await dev.tdk.call('slow', { delay_ms: 300 }, { async: true });
    expect(accepted).toEqual({
      id: expect.stringMatching(/^call_/),
      status: 'queued',
      agent_id: agents.slow,
      links: {
        self: `/api/tdk/v1/calls/${accepted.id}`,
        events: `/api/tdk/v1/calls/${accepted.id}/events`,
      },
    });
    const events: CallEvent[] = [];
    for await (const event of dev.tdk.calls.events(accepted.id)) events.push(event);
    expect(events.map((e) => [e.seq, e.status])).toEqual([
      [1, 'queued'],
      [2, 'paying'],
      [3, 'running'],
      [4, 'succeeded'],
    ]);
    const result = events[3]?.result;
    expect(result).toMatchObject({ id: accepted.id, status: 'succeeded', output: { slept_ms: 300 } });
    expect(events[0]).toEqual({ call_id: accepted.id, seq: 1, status: 'queued', at: expect.any(String) });

    expect(await dev.tdk.calls.wait(accepted.id)).toEqual(result);
    // After the last event the stream has nothing more; waiting answers from the record.
    expect(await dev.tdk.calls.wait(accepted.id, { lastEventId: 4 })).toEqual(result);
    const resumed: CallEvent[] = [];
    for await (const event of dev.tdk.calls.events(accepted.id, { lastEventId: 2 })) resumed.push(event);
    expect(resumed.map((e) => e.seq)).toEqual([3, 4]);
  });

  it('throws the error an async call failed with', async () => {
    const accepted = await dev.tdk.call(agents.broken, {}, { async: true });
    const error = await failure(dev.tdk.calls.wait(accepted.id));
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ code: 'agent_failed', callId: accepted.id });
  });
});

describe('tdk.calls.list', () => {
  it("pages through the account's calls, newest first, and filters them", async () => {
    const { tdk } = await developer();
    const first = await tdk.call('memory', { action: 'list' });
    const second = await tdk.call('memory', { action: 'list' });
    const page = await tdk.calls.list({ limit: 1 });
    expect(page.items.map((c) => c.id)).toEqual([second.id]);
    expect(page.next_cursor).toEqual(expect.any(String));
    const next = await tdk.calls.list({ limit: 1, cursor: page.next_cursor ?? undefined });
    expect(next.items.map((c) => c.id)).toEqual([first.id]);
    expect(next.next_cursor).toBeNull();
    expect((await tdk.calls.list({ status: 'succeeded', agent_id: first.agent_id })).items).toHaveLength(2);
    expect((await tdk.calls.list({ status: 'failed' })).items).toEqual([]);

    const all: string[] = [];
    for await (const call of tdk.calls.iterate({ limit: 1 })) all.push(call.id);
    expect(all).toEqual([second.id, first.id]);
  });
});

describe('agents, usage and keys', () => {
  it('lists the agents and gets one by name, through the fetch it is given', async () => {
    const requested: string[] = [];
    const tdk = new TDK({
      baseUrl: `${inject('tdk').url}/`,
      fetch: (input, init) => {
        requested.push(`${init?.method} ${input}`);
        return fetch(input, init);
      },
    });
    const { items } = await tdk.agents.list();
    expect(items.map((agent) => agent.name)).toEqual(expect.arrayContaining(['memory', 'answers']));
    const memory = await tdk.agents.get('memory');
    expect(memory).toMatchObject({ name: 'memory', price_base: 1000, token: 'USDC', status: 'active' });
    expect(await tdk.agents.get(memory.id)).toEqual(memory);
    expect(requested).toEqual([
      `GET ${inject('tdk').url}/api/tdk/agents`,
      `GET ${inject('tdk').url}/api/tdk/agents/memory`,
      `GET ${inject('tdk').url}/api/tdk/agents/${memory.id}`,
    ]);
  });

  it("shows the key's tier, quota, spend and wallet, and the account's days", async () => {
    const dev = await developer();
    await dev.tdk.memory.list();
    const usage = await dev.tdk.usage.current();
    expect(usage).toMatchObject({
      tier: 'free',
      limits: { calls_per_minute: 100, included_calls_per_day: 1000 },
      quota: { used_today: 1, remaining_today: 999 },
      spend: { this_month: 1500, currency: 'USDC', decimals: 6 },
      wallet: { address: expect.any(String), usdc: expect.any(Number) },
    });
    const { items } = await dev.tdk.usage.daily({ from: '2026-01-01', to: '2026-01-02' });
    expect(items).toEqual([
      { date: '2026-01-01', calls: 0, failed: 0, cost: 0 },
      { date: '2026-01-02', calls: 0, failed: 0, cost: 0 },
    ]);
    expect((await dev.tdk.usage.daily()).items.at(-1)).toMatchObject({ calls: 1, cost: 1500 });
  });

  it('generates, lists, updates, rolls and revokes keys with a session token', async () => {
    const dev = await developer();
    const account = new TDK({ sessionToken: dev.session, baseUrl: dev.baseUrl });
    const created = await account.keys.generate({ name: 'second' });
    expect(created).toMatchObject({
      key: { id: expect.stringMatching(/^key_/), name: 'second', status: 'active', environment: 'test' },
      secret: expect.stringMatching(/^tdk_test_/),
    });
    const { items } = await account.keys.list();
    expect(items.map((key) => key.id)).toEqual([created.key.id, dev.keyId]);
    const firstPage = await account.keys.list({ limit: 1 });
    expect(firstPage.items.map((key) => key.id)).toEqual([created.key.id]);
    expect(firstPage.next_cursor).toEqual(expect.any(String));
    expect(await account.keys.get(dev.keyId)).toMatchObject({ id: dev.keyId, status: 'active' });

    const byKey = (apiKey: string) => new TDK({ apiKey, baseUrl: dev.baseUrl, maxRetries: 0 });
    const updated = await account.keys.update(created.key.id, { name: 'ci', monthly_spend_cap: 2_000_000 });
    expect(updated).toMatchObject({ id: created.key.id, name: 'ci', monthly_spend_cap: 2_000_000 });
    expect((await byKey(created.secret).usage.current()).limits.monthly_spend_cap).toBe(2_000_000);

    const rolled = await account.keys.roll(created.key.id, { grace_seconds: 0 });
    expect(rolled.key.id).toBe(created.key.id);
    expect(rolled.secret).not.toBe(created.secret);
    expect((await byKey(rolled.secret).usage.current()).wallet.address).toBe(created.key.wallet.address);
    expect(await failure(byKey(created.secret).usage.current())).toBeInstanceOf(AuthenticationError);

    expect(await account.keys.revoke(created.key.id)).toMatchObject({ status: 'revoked' });
    const revoked = await failure(byKey(rolled.secret).usage.current());
    expect(revoked).toMatchObject({ code: 'api_key_revoked', status: 401 });
    const conflict = await failure(account.keys.roll(created.key.id));
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(await failure(account.keys.revoke('key_nope'))).toBeInstanceOf(NotFoundError);
  });
});

describe('shortcuts', () => {
  it('tdk.memory stores, reads, lists and deletes', async () => {
    const { tdk } = await developer();
    expect(await tdk.memory.set('user:1:name', 'Ada')).toEqual({
      ok: true,
      key: 'user:1:name',
      stored_at: expect.any(String),
    });
    await tdk.memory.set('user:2:name', 'Grace');
    await tdk.memory.set('other', '');
    expect(await tdk.memory.get('user:1:name')).toEqual({ found: true, key: 'user:1:name', value: 'Ada' });
    expect(await tdk.memory.list('user:')).toEqual({
      keys: ['user:1:name', 'user:2:name'],
      truncated: false,
    });
    expect(await tdk.memory.list()).toEqual({
      keys: ['other', 'user:1:name', 'user:2:name'],
      truncated: false,
    });
    expect(await tdk.memory.delete('user:1:name')).toEqual({ deleted: true, key: 'user:1:name' });
    expect(await tdk.memory.get('user:1:name')).toEqual({ found: false, key: 'user:1:name', value: null });
  });

  it('tdk.answers teaches, answers, updates and forgets', async () => {
    const { tdk } = await developer();
    const taught = await tdk.answers.teach('How long is the refund window?', '30 days.', {
      tags: ['billing'],
    });
    expect(taught).toEqual({ ok: true, id: expect.any(String), created: true });
    expect(await tdk.answers.ask('how long do I have for a refund', { tags: ['billing'] })).toMatchObject({
      found: true,
      id: taught.id,
      answer: '30 days.',
      tags: ['billing'],
      match: 'overlap',
    });
    expect(await tdk.answers.ask('refund window', { tags: ['shipping'] })).toEqual({
      found: false,
      answer: null,
    });
    expect(await tdk.answers.update({ id: taught.id }, '45 days.')).toEqual({ updated: true, id: taught.id });
    expect(await tdk.answers.ask('How long is the refund window?')).toMatchObject({
      answer: '45 days.',
      match: 'exact',
      score: 1,
    });
    expect(await tdk.answers.forget({ question: 'How long is the refund window?' })).toEqual({
      forgotten: true,
      id: taught.id,
    });
    expect(await tdk.answers.forget({ id: taught.id })).toEqual({ forgotten: false, id: null });
  });
});

describe('errors', () => {
  it('AuthenticationError: an unknown key', async () => {
    const tdk = new TDK({ apiKey: 'tdk_test_unknown', baseUrl: inject('tdk').url });
    const error = await failure(tdk.call('memory', { action: 'list' }));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ name: 'AuthenticationError', code: 'invalid_api_key', status: 401 });
    expect(error.requestId).toMatch(/^req_/);
  });

  it('PermissionError: a suspended account', async () => {
    const dev = await developer();
    await updateUser(dev.userId, { status: 'suspended' });
    const error = await failure(dev.tdk.memory.list());
    expect(error).toBeInstanceOf(PermissionError);
    expect(error).toMatchObject({ code: 'account_suspended', status: 403 });
  });

  it('RateLimitError: past the per-minute rate, with how long to wait', async () => {
    const { tdk } = await developer('paid');
    await tdk.memory.list();
    const error = await failure(tdk.memory.list(undefined, { maxRetries: 0 }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ code: 'rate_limited', status: 429 });
    expect((error as RateLimitError).retryAfter).toBeGreaterThan(0);
  });

  it('InsufficientFundsError and QuotaExceededError: nothing is paid', async () => {
    const dev = await developer('pro');
    const poor = await failure(dev.tdk.call(agents.pricey, { action: 'list' }));
    expect(poor).toBeInstanceOf(InsufficientFundsError);
    expect(poor).toMatchObject({ code: 'insufficient_funds', status: 402 });
    await dev.tdk.memory.list();
    const over = await failure(dev.tdk.memory.list());
    expect(over).toBeInstanceOf(QuotaExceededError);
    expect(over).toMatchObject({ code: 'quota_exceeded', status: 402 });
    expect(over.details?.resets_at).toEqual(expect.any(String));
    expect(await dev.spent()).toBe(1500);
  });

  it('InvalidInputError: input the agent does not take, with the issues', async () => {
    const { tdk } = await developer();
    const error = await failure(tdk.call('memory', { action: 'store', key: 'k' }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues).toContainEqual({
      path: '/',
      message: "must have required property 'value'",
    });
  });

  it('NotFoundError: an unknown agent or call', async () => {
    const { tdk } = await developer();
    expect(await failure(tdk.agents.get('nope'))).toMatchObject({ code: 'agent_not_found', status: 404 });
    expect(await failure(tdk.call('nope', {}))).toBeInstanceOf(NotFoundError);
    expect(await failure(tdk.calls.get('call_nope'))).toMatchObject({
      name: 'NotFoundError',
      code: 'not_found',
    });
  });

  it('AgentError: the agent was paid and failed, or timed out; the call is recorded, not billed', async () => {
    const dev = await developer();
    const failed = await failure(dev.tdk.call(agents.broken, {}));
    expect(failed).toBeInstanceOf(AgentError);
    expect(failed).toMatchObject({ code: 'agent_failed', status: 502 });
    const callId = (failed as AgentError).callId;
    expect(await dev.tdk.calls.get(callId ?? '')).toMatchObject({
      status: 'failed',
      error: { code: 'agent_failed' },
      cost: { agent: 1000, total: 0 },
    });

    const late = await failure(dev.tdk.call(agents.slow, { delay_ms: 1500 }));
    expect(late).toBeInstanceOf(AgentError);
    expect(late).toMatchObject({ code: 'agent_timeout', status: 504 });
    // Not billed; what the two agents were paid counts toward the key's spend cap.
    expect(await dev.spent()).toBe(2000);
  });
});
