// biome-ignore-all lint/suspicious/noExplicitAny: stream frames are checked field by field
import { callJobHandlers } from '@tdk/api';
import { testDatabaseKinds } from '@tdk/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { adminSession, newDeveloper } from './support/customers';
import { jsonClient } from './support/http';
import { countMovements } from './support/ledger';

interface Frame {
  event: string | undefined;
  id: string | undefined;
  data: any;
  /** Milliseconds from the request to the frame's arrival. */
  atMs: number;
}

/** Reads a Server-Sent Events response to its end (Node's fetch has no EventSource). */
async function readStream(url: string, headers: Record<string, string>) {
  const started = Date.now();
  const res = await fetch(url, { headers });
  const frames: Frame[] = [];
  if (!res.ok || res.status === 204) return { status: res.status, res, frames };
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const field = (name: string) =>
        lines
          .find((line) => line.startsWith(`${name}:`))
          ?.slice(name.length + 1)
          .trim();
      const data = field('data');
      if (data === undefined) continue; // a comment (keep-alive)
      frames.push({
        event: field('event'),
        id: field('id'),
        data: data ? JSON.parse(data) : undefined,
        atMs: Date.now() - started,
      });
    }
  }
  return { status: res.status, res, frames };
}

const delayMs = 1_500;

describe.each(testDatabaseKinds)('async calls on %s', (kind) => {
  let server: TestServer;
  let api: ReturnType<typeof jsonClient>;
  let slowAgentId: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    api = jsonClient(server.url);
    slowAgentId = await registerFixture(server, `slow-async-${kind}`, 'slow');
  });
  afterAll(async () => {
    await server?.stop();
  });

  const events = (path: string, token: string, headers: Record<string, string> = {}) =>
    readStream(`${server.url}${path}`, { authorization: `Bearer ${token}`, ...headers });

  it('answers 202 at once, streams every state in order, and ends with what a sync call returns', async () => {
    const dev = await newDeveloper(server);
    const body = { agent_id: slowAgentId, input: { delay_ms: delayMs }, async: true };
    const started = Date.now();
    const accepted = await api('POST', '/api/tdk/v1/call', { token: dev.apiKey, body });
    expect(Date.now() - started).toBeLessThan(delayMs);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const id = accepted.body.id as string;
    expect(accepted.body).toEqual({
      id: expect.stringMatching(/^call_/),
      status: 'queued',
      agent_id: slowAgentId,
      links: { self: `/api/tdk/v1/calls/${id}`, events: `/api/tdk/v1/calls/${id}/events` },
    });
    const early = await api('GET', accepted.body.links.self, { token: dev.apiKey });
    expect(['queued', 'paying', 'running']).toContain(early.body.status);

    const stream = await events(accepted.body.links.events, dev.apiKey);
    expect(stream.res.headers.get('content-type')).toBe('text/event-stream');
    expect(stream.frames.map((f) => [f.event, f.id, f.data.status])).toEqual([
      ['status', '1', 'queued'],
      ['status', '2', 'paying'],
      ['status', '3', 'running'],
      ['status', '4', 'succeeded'],
    ]);
    // Live: the states before the agent's answer arrive long before the final one.
    const [, , running, succeeded] = stream.frames as [Frame, Frame, Frame, Frame];
    expect(succeeded.atMs - running.atMs).toBeGreaterThan(delayMs / 2);

    const sync = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { agent_id: slowAgentId, input: { delay_ms: delayMs } },
    });
    expect(sync.status).toBe(200);
    const result = {
      ...sync.body,
      id,
      receipt_id: id,
      latency_ms: expect.any(Number),
      payment: { ...sync.body.payment, tx_signature: expect.any(String) },
    };
    expect(succeeded.data).toEqual({
      call_id: id,
      seq: 4,
      status: 'succeeded',
      at: expect.any(String),
      result,
    });
    const record = await api('GET', accepted.body.links.self, { token: dev.apiKey });
    expect(record.body).toMatchObject({ status: 'succeeded', error: null, result });

    // A sync call goes through the same states, minus the queue.
    const syncStream = await events(`/api/tdk/v1/calls/${sync.body.id}/events`, dev.apiKey);
    expect(syncStream.frames.map((f) => f.data.status)).toEqual(['paying', 'running', 'succeeded']);
  });

  it('holds a key to 10 open event streams at once, and frees a place when one closes', async () => {
    const dev = await newDeveloper(server);
    const call = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { agent_id: slowAgentId, input: { delay_ms: 5_000 }, async: true },
    });
    const open = async () => {
      const stop = new AbortController();
      const res = await fetch(`${server.url}${call.body.links.events}`, {
        headers: { authorization: `Bearer ${dev.apiKey}` },
        signal: stop.signal,
      });
      return { res, stop };
    };
    const streams = [];
    for (let i = 0; i < 10; i++) streams.push(await open());
    try {
      expect(streams.map((s) => s.res.status)).toEqual(Array(10).fill(200));
      const refused = await open();
      expect(refused.res.status).toBe(429);
      expect(((await refused.res.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      expect(refused.res.headers.get('retry-after')).toBe('1');
      streams.shift()?.stop.abort();
      let again = await open();
      for (let tries = 0; again.res.status === 429 && tries < 50; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        again = await open();
      }
      streams.push(again);
      expect(again.res.status).toBe(200);
    } finally {
      for (const s of streams) s.stop.abort();
    }
  });

  it('replays past events, resumes after Last-Event-ID, and tells a client that saw the end to stop', async () => {
    const dev = await newDeveloper(server);
    const call = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { agent_id: slowAgentId, input: { delay_ms: 0 }, async: true },
    });
    await waitUntilFinished(api, call.body.id, dev.apiKey);
    const path = call.body.links.events;
    expect((await events(path, dev.apiKey)).frames.map((f) => f.id)).toEqual(['1', '2', '3', '4']);
    const resumed = await events(path, dev.apiKey, { 'last-event-id': '2' });
    expect(resumed.frames.map((f) => f.data.status)).toEqual(['running', 'succeeded']);
    expect((await events(path, dev.apiKey, { 'last-event-id': '4' })).status).toBe(204);

    // Any key of the same account may follow the call; another account, or no key, gets the JSON error.
    const second = await api('POST', '/api/tdk/keys/generate', {
      token: dev.session,
      body: { name: 'second' },
    });
    expect((await events(path, second.body.secret)).frames).toHaveLength(4);
    const stranger = await newDeveloper(server);
    const hidden = await events(path, stranger.apiKey);
    expect(hidden.status).toBe(404);
    expect(await hidden.res.json()).toMatchObject({
      error: { code: 'not_found', request_id: expect.any(String) },
    });
    const anonymous = await readStream(`${server.url}${path}`, {});
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.res.json()) as any).error.code).toBe('invalid_api_key');
  });

  it('checks an async request at once: bad input and unknown agents are refused before anything is queued', async () => {
    const dev = await newDeveloper(server);
    const bad = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { agent_id: slowAgentId, input: { delay_ms: 'soon' }, async: true },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_input');
    const unknown = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { agent_id: 'no-such-agent', input: {}, async: true },
    });
    expect(unknown.status).toBe(404);
    // `async` is a JSON boolean: the string "false" is not false, nor anything else.
    for (const async of ['false', 'true', 1]) {
      const typed = await api('POST', '/api/tdk/v1/call', {
        token: dev.apiKey,
        body: { agent_id: slowAgentId, input: { delay_ms: 0 }, async },
      });
      expect(typed.status, JSON.stringify(async)).toBe(400);
    }
    const calls = await server.tdk.database.db
      .selectFrom('call')
      .select('id')
      .where('user_id', '=', dev.userId)
      .execute();
    expect(calls).toEqual([]);
  });

  it('replays an async call with the same Idempotency-Key as the same 202, and runs it once', async () => {
    const dev = await newDeveloper(server);
    const body = { agent_id: 'memory', input: { action: 'list' }, async: true };
    const headers = { 'idempotency-key': 'async-once' };
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => api('POST', '/api/tdk/v1/call', { token: dev.apiKey, body, headers })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(5).fill(202));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    await waitUntilFinished(api, answers[0]?.body.id, dev.apiKey);
    const later = await api('POST', '/api/tdk/v1/call', { token: dev.apiKey, body, headers });
    expect(later.body).toEqual(answers[0]?.body);
    // The same key cannot replay it as a synchronous call.
    const sync = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { ...body, async: false },
      headers,
    });
    expect(sync.status).toBe(409);
    expect(await countMovements(server, dev.walletId)).toBe(1);
  });

  it('records a failing agent as a failed call with its error, paid and not billed', async () => {
    const brokenId = await registerFixture(server, `broken-async-${kind}`, 'broken');
    const dev = await newDeveloper(server);
    const sync = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { agent_id: brokenId, input: {} },
    });
    expect(sync.status).toBe(502);
    const call = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { agent_id: brokenId, input: {}, async: true },
    });
    const stream = await events(call.body.links.events, dev.apiKey);
    const final = stream.frames.at(-1)?.data;
    expect(final).toMatchObject({
      status: 'failed',
      error: { code: 'agent_failed', message: sync.body.error.message },
    });
    const record = await api('GET', call.body.links.self, { token: dev.apiKey });
    expect(record.body).toMatchObject({ status: 'failed', error: final.error, cost: { total: 0 } });
    expect(record.body.payment.tx_signature).toBe(final.error.details.payment.tx_signature);
  });

  it('runs more async calls at once than the background jobs have slots, in slots of their own', async () => {
    // Six calls to an agent that takes 1.5 s each, with 4 slots for the other jobs (the default):
    // every call is running before the first one ends.
    const dev = await newDeveloper(server, { tier: 'pro' });
    const body = { agent_id: slowAgentId, input: { delay_ms: delayMs }, async: true };
    const accepted = await Promise.all(
      Array.from({ length: 6 }, () => api('POST', '/api/tdk/v1/call', { token: dev.apiKey, body })),
    );
    const ids = accepted.map((a) => a.body.id as string);
    for (const id of ids) await waitUntilFinished(api, id, dev.apiKey);
    const steps = await server.tdk.database.db
      .selectFrom('call_event')
      .select(['status', 'at'])
      .where('call_id', 'in', ids)
      .where('status', 'in', ['running', 'succeeded'])
      .execute();
    const at = (status: string) => steps.filter((s) => s.status === status).map((s) => s.at.getTime());
    expect(at('succeeded')).toHaveLength(6);
    expect(Math.max(...at('running'))).toBeLessThan(Math.min(...at('succeeded')));
  });

  it('streams the same events to the admin app as a tRPC subscription', async () => {
    const dev = await newDeveloper(server);
    const call = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { agent_id: slowAgentId, input: { delay_ms: 200 }, async: true },
    });
    const path = `/trpc/calls.events?input=${encodeURIComponent(JSON.stringify({ id: call.body.id }))}`;
    const stream = await events(path, await adminSession(server));
    const data = stream.frames.filter((f) => f.event === undefined);
    expect(data.map((f) => [f.id, f.data.status])).toEqual([
      ['1', 'queued'],
      ['2', 'paying'],
      ['3', 'running'],
      ['4', 'succeeded'],
    ]);
    expect(data.at(-1)?.data.result.output).toEqual({ slept_ms: 200 });
    expect(stream.frames.at(-1)?.event).toBe('return');

    const denied = await events(path, dev.session);
    expect(denied.frames.find((f) => f.event === 'serialized-error')?.data.data.code).toBe('forbidden');
  });
});

describe('the job of an async call, run again after its worker stopped', () => {
  let server: TestServer;
  let api: ReturnType<typeof jsonClient>;
  beforeAll(async () => {
    // No worker: the test runs the job's handler itself, as a worker would after a lease ran out.
    server = await startTestServer('pglite-memory', { TDK_WORKER: 'false' });
    api = jsonClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const runJob = (callId: string) =>
    callJobHandlers(server.tdk.services)['call.run']!({
      id: 'job_test',
      kind: 'call.run',
      attempt: 2,
      payload: { call_id: callId },
      signal: new AbortController().signal,
    });
  const queue = async (dev: Awaited<ReturnType<typeof newDeveloper>>) => {
    const res = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { agent_id: 'memory', input: { action: 'list' }, async: true },
    });
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const setStatus = (callId: string, status: 'paying' | 'running') =>
    server.tdk.database.db.updateTable('call').set({ status }).where('id', '=', callId).execute();
  const record = (callId: string, apiKey: string) =>
    api('GET', `/api/tdk/v1/calls/${callId}`, { token: apiKey });

  it('runs a queued call once; running the job again does nothing', async () => {
    const dev = await newDeveloper(server);
    const callId = await queue(dev);
    // Reserving the quota is the job's work, not the request's.
    expect((await api('GET', '/api/tdk/usage/current', { token: dev.apiKey })).body.quota.used_today).toBe(0);
    await runJob(callId);
    expect((await record(callId, dev.apiKey)).body.status).toBe('succeeded');
    await runJob(callId);
    expect(await countMovements(server, dev.walletId)).toBe(1);
    const stream = await readStream(`${server.url}/api/tdk/v1/calls/${callId}/events`, {
      authorization: `Bearer ${dev.apiKey}`,
    });
    expect(stream.frames.map((f) => f.data.status)).toEqual(['queued', 'paying', 'running', 'succeeded']);
  });

  it('does not run a queued call whose key was revoked in the meantime: failed, nothing paid', async () => {
    const dev = await newDeveloper(server);
    const callId = await queue(dev);
    const revoked = await api('POST', `/api/tdk/keys/${dev.keyId}/revoke`, { token: dev.session });
    expect(revoked.body.status).toBe('revoked');
    await runJob(callId);
    const call = await server.tdk.database.db
      .selectFrom('call')
      .select(['status', 'response'])
      .where('id', '=', callId)
      .executeTakeFirstOrThrow();
    expect(call).toMatchObject({ status: 'failed', response: { error: { code: 'api_key_revoked' } } });
    expect(await countMovements(server, dev.walletId)).toBe(0);
  });

  it('does not run a queued call whose subscription ended in the meantime: failed, nothing paid', async () => {
    const dev = await newDeveloper(server);
    const callId = await queue(dev);
    // As `customer.subscription.deleted` records it (billing is offline here: no webhook to send).
    await server.tdk.database.db
      .insertInto('billing_account')
      .values({ user_id: dev.userId, stripe_subscription_id: 'sub_ended', subscription_status: 'canceled' })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ subscription_status: 'canceled' }))
      .execute();
    await runJob(callId);
    expect((await record(callId, dev.apiKey)).body).toMatchObject({
      status: 'failed',
      error: { code: 'subscription_canceled' },
      payment: null,
    });
    expect(await countMovements(server, dev.walletId)).toBe(0);
  });

  it('closes a call its run left in `paying` as failed: nothing was sent, so nothing was paid', async () => {
    const dev = await newDeveloper(server);
    const callId = await queue(dev);
    await setStatus(callId, 'paying');
    await runJob(callId);
    const { body } = await record(callId, dev.apiKey);
    expect(body).toMatchObject({
      status: 'failed',
      error: { details: { reason: 'interrupted' } },
      payment: null,
    });
    expect(await countMovements(server, dev.walletId)).toBe(0);
    // A call in `paying` holds no reservation (it is taken with the move to `running`): none to give back.
    expect((await api('GET', '/api/tdk/usage/current', { token: dev.apiKey })).body.quota.used_today).toBe(0);
  });

  it('never pays again for a call its run left in `running`: the outcome stays unknown', async () => {
    const dev = await newDeveloper(server);
    const callId = await queue(dev);
    await setStatus(callId, 'running');
    await runJob(callId);
    const { body } = await record(callId, dev.apiKey);
    expect(body).toMatchObject({ status: 'running', error: { details: { outcome: 'unknown' } } });
    expect(await countMovements(server, dev.walletId)).toBe(0);
  });
});

async function registerFixture(
  server: TestServer,
  name: string,
  fixture: 'slow' | 'broken',
): Promise<string> {
  const registered = await jsonClient(server.url)('POST', '/api/tdk/admin/agents', {
    token: await adminSession(server),
    body: {
      name,
      description: `The ${fixture} test fixture`,
      endpoint_url: server.tdk.agentServer!.fixtures[fixture],
      price_base: 1000,
      owner_wallet: server.tdk.services.newKeypair().publicKey,
      input_schema:
        fixture === 'slow'
          ? { type: 'object', properties: { delay_ms: { type: 'integer' } }, additionalProperties: false }
          : { type: 'object' },
      output_schema: { type: 'object' },
    },
  });
  if (registered.status !== 200) throw new Error(`register failed: ${JSON.stringify(registered.body)}`);
  return registered.body.id as string;
}

async function waitUntilFinished(api: ReturnType<typeof jsonClient>, callId: string, apiKey: string) {
  for (;;) {
    const { body } = await api('GET', `/api/tdk/v1/calls/${callId}`, { token: apiKey });
    if (body.status === 'succeeded' || body.status === 'failed') return body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
