import { setTimeout as sleep } from 'node:timers/promises';
import { appRouter, createOpenApiDocument } from '@tdk/api';
import { type StripeStandIn, signWebhookPayload, startStripeStandIn } from '@tdk/stripe-standin';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { adminSession, newDeveloper } from './support/customers';
import {
  encodeSegment,
  extraHeaders,
  type FuzzRequest,
  type FuzzResponse,
  type FuzzValues,
  fuzzValues,
  headerValue,
  leaksInternals,
  percentEncode,
  send,
} from './support/fuzz';
import { jsonClient } from './support/http';
import { fillPath, type RestOperation, restOperations, type Schema } from './support/openapi';
import { rawRequest } from './support/raw-http';

/**
 * Bad input, on every route: random and malformed bodies, paths, queries and headers, with and
 * without valid credentials. Every answer is a 2xx or a 4xx (in the documented error format on the
 * REST API), never a 5xx, and the server stays up. `FUZZ_RUNS` is the number of requests per route;
 * `pnpm fuzz` raises it for the ≥ 10,000-request run recorded in docs/reliability.md.
 */
const runs = Number(process.env.FUZZ_RUNS ?? 18);
// PGlite keeps the normal suite fast; `FUZZ_DATABASE=postgres` (with TEST_DATABASE_URL) fuzzes on Postgres.
const database = process.env.FUZZ_DATABASE === 'postgres' ? 'postgres' : 'pglite-memory';
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const perRouteTimeout = 30_000 + runs * 2_000;
const maxBodyBytes = 64 * 1024;
const webhookSecret = 'whsec_fuzz';

// The route lists are known before the server starts: the document and router are code.
const operations = restOperations(createOpenApiDocument({ version: 'fuzz', serverUrl: '/api' })).filter(
  // Served outside tRPC and fuzzed with and without a valid signature below.
  (op) => op.operationId !== 'billing-stripeWebhook',
);
// At run time the router holds every procedure under its dotted path, e.g. `admin.users.list`.
const procedures = Object.entries(
  appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>,
).map(([name, procedure]) => ({ name, type: procedure._def.type }));

/** No limit gets in the way of reaching deep code: every tier unmetered, logins never slowed. */
const unmetered = {
  callsPerMinute: 1_000_000,
  includedCallsPerDay: null,
  monthlySpendCap: null,
  accountRequestsPerMinute: 1_000_000,
};

type Developer = Awaited<ReturnType<typeof newDeveloper>>;
type Auth =
  | 'none'
  | 'developer'
  | 'developer-cookie'
  | 'developer-cookie-csrf'
  | 'api-key'
  | 'revoked-key'
  | 'admin'
  | 'admin-cookie-csrf'
  | 'basic'
  | 'empty-bearer'
  | 'key-shaped'
  | { garbage: string };

type Family = 'rest' | 'trpc' | 'tetto' | 'webhook';

describe(`fuzzing every route with bad input on ${database}`, () => {
  let server: TestServer;
  let stripe: StripeStandIn;
  let developer: Developer;
  let admin: string;
  let revokedKey: string;
  let values: FuzzValues;
  /** Real ids of every kind, so random requests also reach rows that exist. */
  const knownIds: string[] = [];
  const statuses = new Map<number, number>();
  let paidBefore = 0;

  beforeAll(async () => {
    stripe = await startStripeStandIn();
    server = await startTestServer(database, {
      TDK_MAX_BODY_BYTES: String(maxBodyBytes),
      TDK_TIERS: JSON.stringify({ free: unmetered, paid: unmetered, pro: unmetered }),
      TDK_TETTO_REQUESTS_PER_MINUTE: '1000000',
      TDK_LOGIN_DELAY_MS: '0',
      TDK_LOGIN_MAX_DELAY_MS: '0',
      TDK_LOGIN_IP_FAILS_PER_DAY: '1000000',
      STRIPE_SECRET_KEY: 'sk_test_fuzz',
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      STRIPE_API_URL: stripe.url,
    });
    developer = await addDeveloper();
    admin = await adminSession(server);
    const api = jsonClient(server.url);
    // A revoked key, a finished call and a finished async call: rows the fuzz can point at.
    const spare = await api('POST', '/api/tdk/keys/generate', { token: developer.session, body: {} });
    await api('POST', `/api/tdk/keys/${spare.body.key.id}/revoke`, { token: developer.session });
    revokedKey = spare.body.secret;
    const call = { agent_id: 'memory', input: { action: 'store', key: 'k', value: 'v' } };
    const sync = await api('POST', '/api/tdk/v1/call', { token: developer.apiKey, body: call });
    const queued = await api('POST', '/api/tdk/v1/call', {
      token: developer.apiKey,
      body: { ...call, async: true },
    });
    expect([sync.status, queued.status]).toEqual([200, 202]);
    // The async call is paid in the background; the fuzz starts counting payments once it is.
    const status = async () =>
      (await api('GET', `/api/tdk/v1/calls/${queued.body.id}`, { token: developer.apiKey })).body.status;
    while ((await status()) !== 'succeeded') await sleep(50);
    const agents = await api('GET', '/api/tdk/agents');
    const admins = await server.tdk.database.db.selectFrom('app_user').select('id').execute();
    knownIds.push(
      spare.body.key.id,
      sync.body.id,
      queued.body.id,
      ...admins.map((u) => u.id),
      ...agents.body.items.flatMap((a: { id: string; name: string }) => [a.id, a.name]),
    );
    values = fuzzValues(knownIds);
    paidBefore = await paidCalls();
  });

  afterAll(async () => {
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    const fiveHundreds = [...statuses].filter(([s]) => s >= 500).reduce((a, [, n]) => a + n, 0);
    const byStatus = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
    console.info(
      `fuzz on ${database}: ${total} requests, ${fiveHundreds} 5xx (FUZZ_RUNS=${runs}): ${byStatus.join(' ')}`,
    );
    await server?.stop();
    await stripe?.close();
  });

  async function addDeveloper(): Promise<Developer> {
    const added = await newDeveloper(server);
    knownIds.push(added.userId, added.keyId, added.walletId, added.wallet, added.email);
    return added;
  }

  const paidCalls = async () =>
    Number(
      (
        await server.tdk.database.db
          .selectFrom('call')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('tx_signature', 'is not', null)
          .executeTakeFirstOrThrow()
      ).n,
    );

  /**
   * Fuzzing signs out, revokes, rolls and suspends what it can reach; between routes the identities
   * it broke are replaced, and the server must still answer /healthz.
   */
  async function afterRoute() {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const api = jsonClient(server.url);
    const me = await api('GET', '/api/tdk/me', { token: developer.session });
    const usage = await api('GET', '/api/tdk/usage/current', { token: developer.apiKey });
    if (me.status !== 200 || me.body.role !== 'customer' || usage.status !== 200) {
      developer = await addDeveloper();
    }
    if ((await api('GET', '/api/tdk/admin/users?limit=1', { token: admin })).status !== 200) {
      admin = await adminSession(server);
    }
  }

  function credentials(auth: Auth): Record<string, string> {
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const cookie = (token: string) => ({ cookie: `tdk_session=${token}` });
    if (typeof auth === 'object') return { authorization: headerValue(`Bearer ${auth.garbage}`) };
    switch (auth) {
      case 'none':
        return {};
      case 'developer':
        return bearer(developer.session);
      case 'developer-cookie':
        return cookie(developer.session);
      case 'developer-cookie-csrf':
        return { ...cookie(developer.session), 'x-tdk-csrf': '1' };
      case 'api-key':
        return bearer(developer.apiKey);
      case 'revoked-key':
        return bearer(revokedKey);
      case 'admin':
        return bearer(admin);
      case 'admin-cookie-csrf':
        return { ...cookie(admin), 'x-tdk-csrf': '1' };
      case 'basic':
        return { authorization: 'Basic YWRtaW46YWRtaW4=' };
      case 'empty-bearer':
        return { authorization: 'Bearer ' };
      case 'key-shaped':
        return bearer(`tdk_test_${'1'.repeat(32)}`);
    }
  }

  const auths = (): fc.Arbitrary<Auth> =>
    fc.oneof(
      {
        weight: 2,
        arbitrary: fc.constantFrom<Auth>('none', 'basic', 'empty-bearer', 'key-shaped', 'revoked-key'),
      },
      {
        weight: 6,
        arbitrary: fc.constantFrom<Auth>(
          'developer',
          'developer-cookie',
          'developer-cookie-csrf',
          'api-key',
          'admin',
          'admin-cookie-csrf',
        ),
      },
      { weight: 1, arbitrary: values.text.map((garbage): Auth => ({ garbage })) },
    );

  /** Sends one request and checks the answer; every request of the suite goes through here. */
  async function hit(family: Family, request: FuzzRequest): Promise<FuzzResponse> {
    const res = await send(server.url, request);
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const where = `${request.method} ${request.target.slice(0, 300)} → ${res.status} ${res.text.slice(0, 300)}`;
    expect(res.status, where).toBeLessThan(500);
    if (res.status < 400 || request.method === 'HEAD') return res;
    expect(leaksInternals(res.text), where).toBe(false);
    const body = JSON.parse(res.text) as unknown;
    // Refusals before any route (malformed HTTP, CSRF, body size) are in the documented format everywhere.
    if (family === 'rest' || family === 'webhook' || !isRouteError(family, body)) {
      expect(documentedError(body, res), where).toBe(true);
    }
    return res;
  }

  /** The route's own error shape: Tetto's `{ ok: false, error }`, or tRPC's envelope (one per procedure of a batch). */
  function isRouteError(family: Family, body: unknown): boolean {
    if (family === 'tetto') return (body as { ok?: unknown }).ok === false;
    return [body].flat().every((item) => {
      const { result, error } = item as { result?: unknown; error?: { data?: { code?: unknown } } };
      return result !== undefined || typeof error?.data?.code === 'string';
    });
  }

  /** `{ error: { code, message, request_id, details? } }`, the request id also in `X-Request-Id`. */
  function documentedError(body: unknown, res: { headers: Headers } | { head: string }): boolean {
    const { error, ...others } = body as { error?: Record<string, unknown> };
    if (Object.keys(others).length > 0 || typeof error !== 'object' || error === null) return false;
    const { code, message, request_id, details, ...rest } = error;
    const requestId =
      'headers' in res ? res.headers.get('x-request-id') : /\r\nx-request-id: *(\S+)/i.exec(res.head)?.[1];
    return (
      Object.keys(rest).length === 0 &&
      typeof code === 'string' &&
      typeof message === 'string' &&
      request_id === requestId &&
      (details === undefined || (typeof details === 'object' && details !== null))
    );
  }

  /** Could this body (or the first of a tRPC batch) pay an agent? Then the fuzz does not send it with a working key. */
  const couldPay = (body: string | undefined) => {
    let value: unknown;
    try {
      value = JSON.parse(body ?? '');
    } catch {
      return false;
    }
    return [value, (value as Record<string, unknown> | null)?.[0]].some((v) => {
      const input = (v as { input?: unknown } | null)?.input;
      return typeof input === 'object' && input !== null && 'action' in input;
    });
  };

  async function fuzz<T>(arbitrary: fc.Arbitrary<T>, check: (value: T) => Promise<void>) {
    await fc.assert(fc.asyncProperty(arbitrary, check), { numRuns: runs, ...(seed ? { seed } : {}) });
    await afterRoute();
  }

  const method = (usual: string) =>
    fc.oneof(
      { weight: 9, arbitrary: fc.constant(usual) },
      { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') },
    );
  // Mostly percent-encoded, sometimes raw; short enough to stay under the 16 KB header limit.
  const segment = () =>
    fc.tuple(values.text, fc.boolean()).map(([text, raw]) => encodeSegment(text.slice(0, 2_000), raw));
  const rawQueries = fc.constantFrom(
    '',
    '%',
    '&&&',
    'limit=%ZZ',
    'a[b][c]=1',
    '__proto__[role]=admin',
    'limit=1&limit=2',
    `cursor=${'x'.repeat(300)}`,
    'input=%7B%7D',
  );

  function restRequests(op: RestOperation): fc.Arbitrary<FuzzRequest & { auth: Auth }> {
    const query = fc.oneof(
      fc
        .record(
          Object.fromEntries(
            op.queryParams.map((p) => [p.name, values.fromSchema(p.schema).map(asQueryValue)] as const),
          ),
          { requiredKeys: [] },
        )
        .map((params) => new URLSearchParams(params as Record<string, string>).toString()),
      rawQueries,
    );
    return fc
      .record({
        method: method(op.method),
        segments: fc.record(Object.fromEntries(op.pathParams.map((p) => [p, segment()]))),
        query,
        body: fc.option(values.body(op.bodySchema), { freq: 8 }),
        headers: extraHeaders(values),
        auth: auths(),
      })
      .map((r) => ({
        method: r.method,
        target: `${fillPath(op.path, r.segments as Record<string, string>)}${r.query ? `?${r.query}` : ''}`,
        headers: { ...r.headers, ...credentials(r.auth) },
        body: r.body ?? undefined,
        auth: r.auth,
      }))
      .filter((r) => !(op.operationId === 'calls-create' && r.auth === 'api-key' && couldPay(r.body)));
  }

  it.each(operations.map((op) => [`${op.method} ${op.path}`, op] as const))(
    'REST %s: 2xx or documented 4xx, never 5xx',
    async (_, op) => {
      await fuzz(restRequests(op), async (request) => {
        await hit('rest', request);
      });
    },
    perRouteTimeout,
  );

  /** Inputs shaped like the procedures' own: the fields they read, each valid-looking or not. */
  const procedureInput: Schema = {
    type: 'object',
    properties: Object.fromEntries(
      [
        ['id', 'string'],
        ['key_id', 'string'],
        ['agent_id', 'string'],
        ['user_id', 'string'],
        ['cursor', 'string'],
        ['query', 'string'],
        ['email', 'string'],
        ['password', 'string'],
        ['name', 'string'],
        ['period', 'string'],
        ['lastEventId', 'string'],
        ['limit', 'integer'],
        ['grace_seconds', 'integer'],
        ['async', 'boolean'],
        ['input', 'object'],
      ].map(([name, type]) => [name, { type }]),
    ),
  };

  it.each(procedures.map((p) => [p.name, p] as const))(
    'tRPC %s: 2xx or 4xx, never 5xx',
    async (name, { type }) => {
      const requests = fc
        .record({
          batch: fc.boolean(),
          input: fc.oneof({ weight: 4, arbitrary: values.fromSchema(procedureInput) }, values.json),
          raw: fc.option(values.body(undefined), { freq: 4 }),
          method: method(type === 'mutation' ? 'POST' : 'GET'),
          headers: extraHeaders(values),
          auth: auths(),
        })
        .map((r): FuzzRequest & { auth: Auth } => {
          const text = r.raw ?? JSON.stringify(r.batch ? { 0: r.input } : r.input) ?? '';
          const inQuery = r.method === 'GET' || r.method === 'HEAD';
          const query = [r.batch ? 'batch=1' : '', inQuery ? `input=${percentEncode(text)}` : '']
            .filter(Boolean)
            .join('&');
          return {
            method: r.method,
            target: `/trpc/${r.batch ? `${name},${name}` : name}${query ? `?${query}` : ''}`,
            headers: { ...r.headers, ...credentials(r.auth) },
            body: inQuery ? undefined : text,
            auth: r.auth,
          };
        })
        .filter(
          (r) => !(couldPay(r.body) || couldPay(decodeURIComponent(r.target.split('input=')[1] ?? ''))),
        );
      await fuzz(requests, async (request) => {
        await hit('trpc', request);
      });
    },
    perRouteTimeout,
  );

  it(
    'the call events stream (SSE): 2xx or documented 4xx, never 5xx',
    async () => {
      const requests = fc
        .record({
          id: segment(),
          lastEventId: fc.option(fc.oneof(values.text.map(headerValue), fc.integer().map(String))),
          headers: extraHeaders(values),
          auth: auths(),
        })
        .map((r) => ({
          method: 'GET',
          target: `/api/tdk/v1/calls/${r.id}/events`,
          headers: {
            ...r.headers,
            ...(r.lastEventId === null ? {} : { 'last-event-id': r.lastEventId }),
            ...credentials(r.auth),
          },
        }));
      await fuzz(requests, async (request) => {
        await hit('rest', request);
      });
    },
    perRouteTimeout,
  );

  const tettoRoutes: Array<[string, string, Schema | undefined]> = [
    ['GET', '/api/agents', undefined],
    ['GET', '/api/agents/{id}', undefined],
    [
      'POST',
      '/api/agents/{id}/build-transaction',
      {
        type: 'object',
        properties: { payer_wallet: { type: 'string' }, selected_token: { enum: ['USDC'] }, input: {} },
      },
    ],
    [
      'POST',
      '/api/agents/call',
      {
        type: 'object',
        properties: { payment_intent_id: { type: 'string' }, signed_transaction: { type: 'string' } },
      },
    ],
    ['GET', '/api/receipts/{id}', undefined],
  ];

  it.each(tettoRoutes)(
    'Tetto protocol %s %s: 2xx or 4xx in its own shape, never 5xx',
    async (usual, path, bodySchema) => {
      const requests = fc
        .record({
          method: method(usual),
          id: segment(),
          body: values.body(bodySchema),
          headers: extraHeaders(values),
        })
        .map((r) => ({
          method: r.method,
          target: path.replace('{id}', r.id),
          headers: r.headers,
          body: r.body,
        }));
      await fuzz(requests, async (request) => {
        await hit('tetto', request);
      });
    },
    perRouteTimeout,
  );

  it(
    'the Stripe webhook, unsigned or badly signed: 400, nothing applied',
    async () => {
      const requests = fc
        .record({
          body: values.body(undefined),
          signature: fc.option(
            fc.oneof(
              values.text.map(headerValue),
              fc.constant('t=1,v1=00'),
              fc.string().map((s) => signWebhookPayload(s, webhookSecret)),
              fc.string().map((s) => signWebhookPayload(s, 'whsec_other')),
            ),
          ),
          headers: extraHeaders(values),
        })
        .map((r) => ({
          method: 'POST',
          target: '/api/tdk/webhooks/stripe',
          headers: { ...r.headers, ...(r.signature === null ? {} : { 'stripe-signature': r.signature }) },
          body: r.body,
        }));
      await fuzz(requests, async (request) => {
        const res = await hit('webhook', request);
        expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      });
    },
    perRouteTimeout,
  );

  it(
    'the Stripe webhook, signed but malformed events: 2xx or 4xx, never 5xx',
    async () => {
      const customers = await server.tdk.database.db
        .selectFrom('billing_account')
        .select(['stripe_customer_id', 'stripe_subscription_id'])
        .execute();
      const realIds = customers.flatMap((c) => [c.stripe_customer_id, c.stripe_subscription_id]);
      const text = fc.oneof(
        values.text,
        fc.constantFrom(...realIds.filter((id): id is string => id !== null)),
      );
      const field = fc.oneof(text, values.number, values.json);
      const event = fc.record(
        {
          id: fc.oneof({ weight: 3, arbitrary: fc.uuid().map((u) => `evt_${u}`) }, values.json),
          type: fc.oneof(
            {
              weight: 4,
              arbitrary: fc.constantFrom(
                'invoice.created',
                'invoice.finalized',
                'invoice.paid',
                'invoice.payment_failed',
                'customer.subscription.updated',
                'customer.subscription.deleted',
                'invoice.unknown',
              ),
            },
            values.json,
          ),
          data: fc.oneof(
            {
              weight: 4,
              arbitrary: fc.record({
                object: fc.record(
                  {
                    id: field,
                    customer: field,
                    status: field,
                    period_start: field,
                    created: field,
                    amount_due: field,
                    currency: field,
                  },
                  { requiredKeys: [] },
                ),
              }),
            },
            values.json,
          ),
        },
        { requiredKeys: [] },
      );
      const requests = event.map((e) => {
        const body = JSON.stringify(e);
        return {
          method: 'POST',
          target: '/api/tdk/webhooks/stripe',
          headers: {
            'content-type': 'application/json',
            'stripe-signature': signWebhookPayload(body, webhookSecret),
          },
          body,
        };
      });
      await fuzz(requests, async (request) => {
        await hit('webhook', request);
      });
    },
    perRouteTimeout,
  );

  it('refuses a body over TDK_MAX_BODY_BYTES with 413 payload_too_large on every route that reads one', async () => {
    const over = JSON.stringify({ email: 'a'.repeat(maxBodyBytes), password: 'x' });
    const posts = [
      ...operations.filter((op) => op.method !== 'GET').map((op) => ({ method: op.method, path: op.path })),
      { method: 'POST', path: '/api/tdk/webhooks/stripe' },
      { method: 'POST', path: '/api/agents/call' },
    ];
    for (const { method, path } of posts) {
      const target = fillPath(path, { id: 'x' });
      const res = await hit(path.startsWith('/api/agents') ? 'tetto' : 'rest', {
        method,
        target,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${developer.session}` },
        body: over,
      });
      expect(res.status, `${method} ${target}`).toBe(413);
      if (!path.startsWith('/api/agents')) expect(JSON.parse(res.text).error.code).toBe('payload_too_large');
    }
    const trpc = await hit('trpc', {
      method: 'POST',
      target: '/trpc/auth.login',
      headers: { 'content-type': 'application/json' },
      body: over,
    });
    expect(trpc.status).toBe(413);
    // Streamed without a length, the limit is found while reading.
    const chunked = await rawRequest(
      server.url,
      `POST /api/tdk/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${(maxBodyBytes + 1).toString(16)}\r\n${'a'.repeat(maxBodyBytes + 1)}\r\n0\r\n\r\n`,
    );
    expect(chunked.status).toBe(413);
    // Just under the limit is read, and refused for what it says.
    const under = await hit('rest', {
      method: 'POST',
      target: '/api/tdk/auth/login',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a'.repeat(maxBodyBytes - 100), password: 'x' }),
    });
    expect(under.status).toBe(400);
  });

  it('answers requests no HTTP client would send without a 5xx, in the documented format, and stays up', async () => {
    const requests = [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
      'GET /api/tdk/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\0b\r\n\r\n',
      'GET /api/tdk/me HTTP/1.1\r\nHost: x\r\nX-Bad\u0001: 1\r\n\r\n',
      `GET /api/tdk/me HTTP/1.1\r\nHost: x\r\nX-Huge: ${'h'.repeat(20_000)}\r\n\r\n`,
      'POST /api/tdk/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
      'POST /api/tdk/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'POST /api/tdk/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
      'POST /api/tdk/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
      `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      'GET /api/tdk/v1/calls/%ZZ/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'GET /api/tdk/info HTTP/1.1\r\nHost: x\r\nLast-Event-ID: \u00ff\u00fe\r\nConnection: close\r\n\r\n',
      'POST /api/tdk/v1/call HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \u00ff\u00ff\r\nIdempotency-Key: \u00e9\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
    ];
    for (const bytes of requests) {
      const res = await rawRequest(server.url, Buffer.from(bytes, 'latin1'));
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const where = `${JSON.stringify(bytes.slice(0, 120))} → ${res.head.split('\r\n')[0]} ${res.body.slice(0, 200)}`;
      expect(res.status, where).toBeGreaterThan(0);
      expect(res.status, where).toBeLessThan(500);
      if (res.status >= 400) expect(documentedError(JSON.parse(res.body), res), where).toBe(true);
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('paid for nothing and logged no internal error', async () => {
    expect(await paidCalls()).toBe(paidBefore);
    const errors = server
      .logs()
      .filter((line) => (line.level as number) >= 50 && !String(line.msg).startsWith('alert:'));
    expect(errors.map((line) => JSON.stringify(line).slice(0, 500))).toEqual([]);
  });
});

const asQueryValue = (value: unknown): string =>
  typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
