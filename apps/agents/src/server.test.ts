import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testFixtures } from './fixtures';
import { type AgentServer, startAgentServer } from './server';
import { caller, envelope, send } from './testing/http';
import { matchesSchema } from './testing/schema-check';

let server: AgentServer;
beforeAll(async () => {
  server = await startAgentServer({ slowMs: 20 });
});
afterAll(() => server.close());

describe('agent server', () => {
  it('listens on 127.0.0.1 and names each endpoint', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.agents).toEqual({
      memory: `${server.url}/agents/memory`,
      answers: `${server.url}/agents/answers`,
    });
    expect(server.fixtures).toEqual({
      slow: `${server.url}/agents/slow`,
      broken: `${server.url}/agents/broken`,
      invalidOutput: `${server.url}/agents/invalid-output`,
    });
  });

  it('answers /healthz', async () => {
    expect(await send(`${server.url}/healthz`, { method: 'GET' })).toMatchObject({
      status: 200,
      body: { ok: true },
    });
    const post = await send(`${server.url}/healthz`, { body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('answers 404 to unknown paths and 405 to methods other than POST', async () => {
    for (const path of ['/', '/agents', '/agents/', '/agents/nope', '/agents/memory/extra']) {
      const reply = await send(`${server.url}${path}`, { body: envelope({}) });
      expect(reply).toMatchObject({ status: 404, body: { error: expect.any(String) } });
    }
    const get = await send(server.agents.memory, { method: 'GET' });
    expect(get).toMatchObject({ status: 405, body: { error: 'agents take POST' } });
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('accepts a query string on an agent path', async () => {
    const reply = await send(`${server.agents.memory}?trace=1`, { body: envelope({ action: 'list' }) });
    expect(reply.status).toBe(200);
  });

  it.each([
    ['a body that is not JSON', '{"input":', 'body must be JSON'],
    ['an empty body', '', 'body must be JSON'],
    ['a JSON array', '[]', 'body must be a JSON object'],
    ['no input', JSON.stringify({ tetto_context: { caller_wallet: 'w' } }), 'input must be a JSON object'],
    ['an array input', envelope([{ action: 'list' }]), 'input must be a JSON object'],
    ['a string input', envelope('list'), 'input must be a JSON object'],
    [
      'no tetto_context',
      JSON.stringify({ input: { action: 'list' } }),
      'tetto_context must be a JSON object',
    ],
    ['a numeric caller_wallet', envelope({ action: 'list' }, 42), 'caller_wallet must be a non-empty string'],
    ['an empty caller_wallet', envelope({ action: 'list' }, ''), 'caller_wallet must be a non-empty string'],
  ])('answers 400 { error } to %s', async (_, body, message) => {
    for (const url of [server.agents.memory, server.agents.answers]) {
      const reply = await send(url, { body });
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toBe('application/json');
      expect(reply.body).toEqual({ error: expect.stringContaining(message) });
    }
  });

  it('answers 413 to a body over 1 MiB, declared or streamed, and keeps serving', async () => {
    const big = envelope({ action: 'store', key: 'k', value: 'v'.repeat(1024 * 1024) });
    expect(await send(server.agents.memory, { body: big })).toMatchObject({
      status: 413,
      body: { error: 'body must be at most 1048576 bytes' },
    });

    // Without a content-length: chunked, so the limit is found while reading.
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 20) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const streamed = await send(server.agents.memory, { body: stream, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);

    expect((await caller(server.agents.memory)({ action: 'list' })).status).toBe(200);
  });

  it('takes a body just under the limit', async () => {
    const value = 'v'.repeat(60 * 1024);
    const reply = await caller(server.agents.memory)({ action: 'store', key: 'near-limit', value });
    expect(reply.status).toBe(200);
  });
});

describe('test fixtures', () => {
  it('slow answers after delay_ms, or the server default', async () => {
    const started = Date.now();
    expect((await caller(server.fixtures.slow)({ delay_ms: 100 })).body).toEqual({ slept_ms: 100 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect((await caller(server.fixtures.slow)({})).body).toEqual({ slept_ms: 20 });
  });

  it('slow refuses delays past 5 minutes', async () => {
    for (const delay_ms of [300_001, -1, 1.5, '10']) {
      const reply = await caller(server.fixtures.slow)({ delay_ms });
      expect(reply).toMatchObject({
        status: 400,
        body: { error: 'delay_ms must be an integer from 0 to 300000' },
      });
    }
  });

  it('slow stops waiting when the caller gives up, and the server still closes at once', async () => {
    const own = await startAgentServer();
    const call = fetch(own.fixtures.slow, {
      method: 'POST',
      body: envelope({ delay_ms: 300_000 }),
      signal: AbortSignal.timeout(50),
    });
    await expect(call).rejects.toThrow();
    const closing = Date.now();
    await own.close();
    expect(Date.now() - closing).toBeLessThan(1_000);
  });

  it('broken answers 500 { error }', async () => {
    expect(await caller(server.fixtures.broken)({})).toMatchObject({
      status: 500,
      body: { error: 'broken on purpose (test fixture)' },
    });
  });

  it('invalid-output answers 200 with output its own schema rejects', async () => {
    const reply = await caller(server.fixtures.invalidOutput)({});
    expect(reply.status).toBe(200);
    expect(matchesSchema(testFixtures.invalidOutput.outputSchema, reply.body)).toBe(false);
    expect(matchesSchema(testFixtures.invalidOutput.outputSchema, { result: 'fine' })).toBe(true);
  });

  it('refuses a default delay past 5 minutes', async () => {
    await expect(startAgentServer({ slowMs: 300_001 })).rejects.toThrow(RangeError);
  });
});
