import { testDatabaseKinds } from '@tdk/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';

describe.each(testDatabaseKinds)('HTTP host on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);

  it('answers /healthz and /readyz', async () => {
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', chain: 'ok' } });
  });

  it('serves the OpenAPI 3.1 document and the docs page', async () => {
    const doc = (await (await get('/api/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/tdk/info');
    expect(doc.components.schemas.Error).toBeDefined();
    const docs = await get('/docs/');
    expect(docs.status).toBe(200);
    const html = await docs.text();
    expect(html).toContain('swagger-ui');
    // Offline: every script and stylesheet comes from this server.
    expect(html).not.toMatch(/(src|href)="https?:\/\//);
    expect((await get('/docs/swagger-ui-bundle.js')).status).toBe(200);
  });

  it('answers the API uncached and unsniffed, and keeps the docs page from being framed', async () => {
    const answers = {
      '/api/tdk/info': await get('/api/tdk/info'),
      '/trpc/system.info': await get('/trpc/system.info'),
      '/api/openapi.json': await get('/api/openapi.json'),
      'REST 404': await get('/api/tdk/nope'),
      'tRPC 404': await get('/trpc/nope'),
      'REST login': await get('/api/tdk/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'nobody@example.com', password: 'wrong guess' }),
      }),
    };
    for (const [what, res] of Object.entries(answers)) {
      expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
      expect(res.headers.get('cache-control'), what).toBe('no-store');
    }
    expect((await get('/healthz')).headers.get('x-content-type-options')).toBe('nosniff');

    for (const path of ['/docs/', '/docs/swagger-ui-bundle.js']) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('content-security-policy'), path).toBe("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });

  it('serves a public procedure over REST and over tRPC', async () => {
    const rest = (await (await get('/api/tdk/info')).json()) as { service: string; instance_id: string };
    expect(rest).toMatchObject({ service: 'tdk', instance_id: server.tdk.services.instance.id });
    const trpc = (await (await get('/trpc/system.info')).json()) as { result: { data: unknown } };
    expect(trpc.result.data).toEqual(rest);
  });

  it('counts requests by route template and status in /metrics', async () => {
    await get('/api/tdk/info');
    await get('/no/such/thing/123');
    const text = await (await get('/metrics')).text();
    expect(text).toMatch(/tdk_http_requests_total\{method="GET",route="\/api\/tdk\/info",status="200"\} \d+/);
    expect(text).toMatch(/tdk_http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/);
    expect(text).toContain('tdk_http_request_duration_seconds_bucket');
    expect(text).not.toContain('/no/such/thing');
  });

  it('answers an unknown route with the documented error, as JSON', async () => {
    for (const path of ['/nope', '/api/tdk/nope', '/api/nope']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await res.json()) as { error: { code: string; request_id: string } };
      expect(body).toEqual({
        error: { code: 'not_found', message: expect.any(String), request_id: expect.stringMatching(/^req_/) },
      });
      expect(body.error.request_id).toBe(res.headers.get('x-request-id'));
    }
  });

  it('reads a JSON body whatever the case of its media type, and names another one it refuses', async () => {
    const register = (contentType: string) =>
      get('/api/tdk/auth/register', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: JSON.stringify({ email: 'not an email', password: 'x' }),
      });
    // Reaches the use case, which refuses the email: the body was read.
    expect((await register('Application/JSON; charset=UTF-8')).status).toBe(400);
    const refused = await register('text/plain');
    expect(refused.status).toBe(415);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
      'Unsupported content-type "text/plain"',
    );
  });

  it('answers a malformed JSON body with invalid_json and no stack', async () => {
    for (const path of ['/api/tdk/info', '/api/tdk/anything']) {
      const res = await get(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"agent_id": ',
      });
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({
        error: {
          code: 'invalid_json',
          message: 'The request body is not valid JSON.',
          request_id: expect.stringMatching(/^req_/),
        },
      });
      expect(text).not.toMatch(/at .*\.(ts|js):\d+/);
    }
  });

  it('answers a malformed JSON body on tRPC with invalid_json, never quoting the body', async () => {
    const password = 'Correct-horse-battery-staple';
    const res = await get('/trpc/auth.login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"email":"someone@example.com","password":${password}}`,
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toContain('Correct');
    expect(text).not.toContain('horse');
    // tRPC's envelope, with our code and request id in `error.data`.
    expect(JSON.parse(text)).toEqual({
      error: {
        code: -32600,
        message: 'The request body is not valid JSON.',
        data: { code: 'invalid_json', httpStatus: 400, requestId: res.headers.get('x-request-id') },
      },
    });
    expect(server.rawLogs()).not.toContain(password);
  });

  it('refuses a tRPC batch over the cap before any of its calls runs, in the tRPC error shape', async () => {
    const calls = 21;
    const emails = Array.from({ length: calls }, (_, i) => `batched.${i}.${Date.now()}@example.com`);
    const res = await get(`/trpc/${Array(calls).fill('auth.login').join(',')}?batch=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        Object.fromEntries(emails.map((email, i) => [i, { email, password: 'wrong guess' }])),
      ),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        code: -32600,
        message: 'Batch call exceeds maximum size',
        data: { code: 'invalid_input', httpStatus: 400 },
      },
    });
    const attempts = await server.tdk.database.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'auth.login_failed')
      .execute();
    expect(attempts.filter((row) => emails.includes((row.details as { email: string }).email))).toEqual([]);

    // A batch the size of the admin app's largest is answered call by call.
    const input = encodeURIComponent(JSON.stringify({}));
    const batch = await get(`/trpc/${Array(6).fill('system.info').join(',')}?batch=1&input=${input}`);
    expect(batch.status).toBe(200);
    expect(((await batch.json()) as unknown[]).length).toBe(6);
  });

  it('refuses an oversized body with payload_too_large', async () => {
    const body = JSON.stringify({ blob: 'x'.repeat(1_100_000) });
    const res = await get('/api/tdk/info', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });

  it('answers a wrong method on a known REST path 405, with the methods it allows', async () => {
    for (const [path, method, allow] of [
      ['/api/tdk/info', 'DELETE', 'GET'],
      ['/api/tdk/v1/call', 'GET', 'POST'],
      ['/api/tdk/keys/key_whatever', 'DELETE', 'GET, PATCH'],
    ] as const) {
      const res = await get(path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
    }
  });

  it('takes percent-encoded unreserved characters in a REST path as the characters', async () => {
    const plain = await get('/api/tdk/agents/memory');
    expect(plain.status).toBe(200);
    const encoded = await get('/api/tdk/agents/%6D%65mory');
    expect(encoded.status).toBe(200);
    expect(await encoded.json()).toEqual(await plain.json());
    // Other escapes stay escapes: no agent has a space in its name.
    expect((await get('/api/tdk/agents/mem%20ory')).status).toBe(404);
  });

  it('keeps a caller-supplied request id when it is sane, and replaces it when not', async () => {
    expect(
      (await get('/healthz', { headers: { 'x-request-id': 'trace-abc.123' } })).headers.get('x-request-id'),
    ).toBe('trace-abc.123');
    expect(
      (await get('/healthz', { headers: { 'x-request-id': 'bad id\twith tab' } })).headers.get(
        'x-request-id',
      ),
    ).toMatch(/^req_/);
  });

  it('logs requests with their id and without credentials', async () => {
    const secretBearer = 'tdk_test_SECRETbearerVALUE123456789';
    const secretCookie = 'tdk_session=SECRETcookieVALUE987654321';
    const res = await get('/api/tdk/info', {
      headers: { authorization: `Bearer ${secretBearer}`, cookie: secretCookie },
    });
    const requestId = res.headers.get('x-request-id');
    const raw = server.rawLogs();
    expect(raw).not.toContain('SECRETbearerVALUE');
    expect(raw).not.toContain('SECRETcookieVALUE');
    const line = server.logs().find((l) => l.request_id === requestId);
    expect(line).toBeDefined();
    expect((line?.req as { headers: Record<string, string> }).headers.authorization).toBe('[redacted]');
  });

  it('reports not ready when the database is gone', async () => {
    const other = await startTestServer(kind);
    await other.tdk.database.close();
    const res = await fetch(`${other.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'unavailable',
      checks: { database: 'unavailable', chain: 'ok' },
    });
    await other.stop();
  });
});
