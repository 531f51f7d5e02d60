import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  AgentError,
  type CallEvent,
  ConnectionError,
  RateLimitError,
  TDK,
  TDKError,
  type TDKOptions,
  TimeoutError,
} from '../src/index';
import { newDeveloper } from './support/developer';
import { type Fault, startProxy } from './support/proxy';

const { agents } = inject('tdk');
let dev: Awaited<ReturnType<typeof newDeveloper>>;
let direct: TDK;
const proxies: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  dev = await newDeveloper();
  direct = new TDK({ apiKey: dev.apiKey, baseUrl: dev.baseUrl });
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

/** A client whose requests go through a proxy playing `faults`, and what the proxy saw. */
async function through(faults: Fault[], options: TDKOptions = {}) {
  const proxy = await startProxy(dev.baseUrl, faults);
  proxies.push(proxy);
  const tdk = new TDK({ apiKey: dev.apiKey, sessionToken: dev.session, baseUrl: proxy.url, ...options });
  return { tdk, seen: proxy.seen };
}

const spent = async () => (await direct.usage.current()).spend.this_month;
const list = { action: 'list' };

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a failure'),
    (error: unknown) => error,
  );
}

describe('retries that never pay twice', () => {
  it('waits out a 429 for its Retry-After, then calls once', async () => {
    const { tdk, seen } = await through([
      { answer: { status: 429, headers: { 'retry-after': '1' }, body: '{"error":{"code":"rate_limited"}}' } },
    ]);
    const before = await spent();
    const started = Date.now();
    const result = await tdk.call('memory', list);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(result.status).toBe('succeeded');
    expect(seen).toHaveLength(2);
    const [first, second] = seen.map((request) => request.headers['idempotency-key']);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(second).toBe(first);
    expect((await spent()) - before).toBe(1500);
  });

  it('retries after a 503 that lost the answer, and gets the same call back: one payment', async () => {
    const { tdk, seen } = await through([{ loseAnswer: { status: 503 } }]);
    const before = await spent();
    const result = await tdk.call('memory', list, { idempotencyKey: 'lost-answer-1' });
    expect(seen.map((request) => request.headers['idempotency-key'])).toEqual([
      'lost-answer-1',
      'lost-answer-1',
    ]);
    const paid = JSON.parse(seen[0]?.upstream?.body ?? '{}') as { id: string; payment: unknown };
    expect(result.id).toBe(paid.id);
    expect(result.payment).toEqual(paid.payment);
    expect((await spent()) - before).toBe(1500);
    expect((await direct.calls.get(result.id)).status).toBe('succeeded');
  });

  it('retries after a dropped connection: one payment', async () => {
    const { tdk, seen } = await through(['reset']);
    const before = await spent();
    const result = await tdk.call('memory', list);
    expect(seen).toHaveLength(2);
    expect(result.id).toBe((JSON.parse(seen[0]?.upstream?.body ?? '{}') as { id: string }).id);
    expect((await spent()) - before).toBe(1500);
  });

  it('gives up after maxRetries with the last error', async () => {
    const unavailable: Fault = { answer: { status: 503, body: 'Service Unavailable' } };
    const { tdk, seen } = await through([unavailable, unavailable, unavailable], { maxRetries: 1 });
    const error = await failure(tdk.usage.current());
    expect(error).toBeInstanceOf(TDKError);
    expect(error).toMatchObject({ status: 503, code: 'http_error', message: 'HTTP 503 Service Unavailable' });
    expect(seen).toHaveLength(2);
  });

  it('does not retry what is final or unsafe to repeat', async () => {
    const agentFailed = await through([]);
    expect(await failure(agentFailed.tdk.call(agents.broken, {}))).toBeInstanceOf(AgentError);
    expect(agentFailed.seen).toHaveLength(1);

    // A new key may have been created when a 5xx came back: never twice. A 429 did nothing: retried.
    const generate = await through([{ answer: { status: 503 } }, { answer: { status: 429 } }]);
    expect(await failure(generate.tdk.keys.generate())).toMatchObject({ status: 503 });
    expect((await generate.tdk.keys.generate({ name: 'after a 429' })).key.name).toBe('after a 429');
    expect(generate.seen).toHaveLength(3);

    const tooLong = await through([{ answer: { status: 429, headers: { 'retry-after': '120' } } }]);
    const error = await failure(tooLong.tdk.usage.current());
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfter).toBe(120);
    expect(tooLong.seen).toHaveLength(1);
  });

  it('throws a ConnectionError when the server cannot be reached', async () => {
    const tdk = new TDK({ apiKey: dev.apiKey, baseUrl: 'http://127.0.0.1:9', maxRetries: 1 });
    const error = await failure(tdk.usage.current());
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ code: 'connection_error', status: undefined });
    expect((error as ConnectionError).cause).toBeDefined();
  });
});

describe('timeouts and aborts', () => {
  it('throws a TimeoutError after timeoutMs, retries included', async () => {
    const slow = await failure(direct.call(agents.slow, { delay_ms: 800 }, { timeoutMs: 200 }));
    expect(slow).toBeInstanceOf(TimeoutError);
    expect(slow).toMatchObject({ code: 'timeout', message: 'No answer within 200 ms.' });

    const unavailable: Fault = { answer: { status: 503 } };
    const { tdk } = await through(Array(10).fill(unavailable), { maxRetries: 10, timeoutMs: 700 });
    const retrying = Date.now();
    expect(await failure(tdk.usage.current())).toBeInstanceOf(TimeoutError);
    // Ten retries' backoff would take close to a minute: the deadline cut them short.
    expect(Date.now() - retrying).toBeLessThan(5000);
  });

  it('rejects with the signal’s reason when aborted, and does not retry', async () => {
    const { tdk, seen } = await through([]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const aborted = await failure(tdk.call(agents.slow, { delay_ms: 800 }, { signal: controller.signal }));
    expect(aborted).toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(1);

    const reason = new Error('user left');
    expect(await failure(tdk.usage.current({ signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(seen).toHaveLength(1);
  });

  it('aborts while waiting to retry', async () => {
    const { tdk } = await through([{ answer: { status: 503, headers: { 'retry-after': '30' } } }]);
    const started = Date.now();
    const error = await failure(tdk.usage.current({ signal: AbortSignal.timeout(200) }));
    expect(error).toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(5000); // not the 30 s Retry-After
  });
});

describe('event streams', () => {
  it('resumes a broken stream after the last event seen', async () => {
    const { id } = await direct.call(agents.slow, { delay_ms: 300 }, { async: true });
    const { tdk, seen } = await through([{ endStreamAfterEvents: 2 }]);
    const events: CallEvent[] = [];
    for await (const event of tdk.calls.events(id)) events.push(event);
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4]);
    expect(seen.map((request) => request.headers['last-event-id'])).toEqual([undefined, '2']);
  });

  it('stops when aborted', async () => {
    const { id } = await direct.call(agents.slow, { delay_ms: 2000 }, { async: true });
    const controller = new AbortController();
    const events: CallEvent[] = [];
    const reading = (async () => {
      for await (const event of direct.calls.events(id, { signal: controller.signal })) {
        events.push(event);
        if (event.status === 'running') controller.abort();
      }
    })();
    expect(await failure(reading)).toMatchObject({ name: 'AbortError' });
    expect(events.map((event) => event.status)).toEqual(['queued', 'paying', 'running']);
  });
});
