import { setTimeout as sleep } from 'node:timers/promises';
import { appRouter, createOpenApiDocument } from '@tdk/api';
import { testDatabaseKinds } from '@tdk/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { newDeveloper } from './support/customers';
import { jsonClient } from './support/http';
import { restOperations } from './support/openapi';

/**
 * How each route treats per-account data, by procedure path (`keys.revoke`; a REST operation
 * `keys-revoke` is the same procedure). A new route fails the first test until it is classified here,
 * and each class has its own test below.
 */
type Access =
  /** Serves no per-account data (catalog, sign-up, sign-in). */
  | 'public'
  /** Admins only: any customer gets 403. */
  | 'admin'
  /** Reads the caller's own account (its user, usage, wallet). */
  | 'own'
  /** Lists the caller's own rows. */
  | 'own-list'
  /** Creates a row for the caller's own account. */
  | 'own-create'
  /** Acts on the caller's own session or password. */
  | 'own-session'
  /** One of the caller's keys, by id: anyone else's does not exist. */
  | 'key-by-id'
  /** One of the caller's account's calls, by id: anyone else's does not exist. */
  | 'call-by-id'
  /** Lists the calls of the caller's account (with an API key). */
  | 'own-call-list'
  /** Stripe only: without Stripe's signature, nothing happens. */
  | 'stripe-signed';

const access: Record<string, Access> = {
  'system.info': 'public',
  'auth.register': 'public',
  'auth.login': 'public',
  'auth.refresh': 'own-session',
  'auth.logout': 'own-session',
  'auth.logoutEverywhere': 'own-session',
  'auth.changePassword': 'own-session',
  'auth.me': 'own',
  'keys.generate': 'own-create',
  'keys.list': 'own-list',
  'keys.get': 'key-by-id',
  'keys.revoke': 'key-by-id',
  'keys.roll': 'key-by-id',
  'keys.update': 'key-by-id',
  'agents.list': 'public',
  'agents.get': 'public',
  'calls.create': 'own-create',
  'calls.get': 'call-by-id',
  'calls.list': 'own-call-list',
  // REST only (Server-Sent Events, outside tRPC): the call's events, checked as `calls.get`.
  'calls.getEvents': 'call-by-id',
  'calls.events': 'admin',
  'usage.current': 'own',
  'usage.daily': 'own',
  // The admin app's sign-in: public, and it refuses customers (tested in accounts).
  'admin.signIn': 'public',
  'billing.stripeWebhook': 'stripe-signed',
};
const adminPrefix = 'admin.';
const accessOf = (name: string): Access | undefined =>
  access[name] ?? (name.startsWith(adminPrefix) && name !== 'admin.signIn' ? 'admin' : undefined);

const restRoutes = restOperations(createOpenApiDocument({ version: 'tenancy', serverUrl: '/api' })).map(
  (op) => ({ ...op, procedure: op.operationId.replaceAll('-', '.') }),
);
// At run time the router holds every procedure under its dotted path, e.g. `admin.users.list`.
const procedures = Object.entries(
  appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>,
).map(([name, p]) => ({ name, type: p._def.type }));

type Developer = Awaited<ReturnType<typeof newDeveloper>>;
interface Customer extends Developer {
  keyIds: string[];
  callIds: string[];
  wallets: string[];
}

describe.each(testDatabaseKinds)('tenant isolation on %s', (kind) => {
  let server: TestServer;
  let a: Customer;
  let b: Customer;
  /** Every request B made and the answer it got, to check at the end that no answer holds anything of A's. */
  const seenByB: Array<{ request: string; answer: string }> = [];

  beforeAll(async () => {
    // Many requests a minute from each account: the account rate limit is not what is tested here.
    server = await startTestServer(kind, {
      TDK_TIERS: JSON.stringify({ free: { accountRequestsPerMinute: 10_000 } }),
    });
    [a, b] = [await customer(), await customer()];
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** A customer with two keys, a synchronous and a finished asynchronous call, hence usage. */
  async function customer(): Promise<Customer> {
    const api = jsonClient(server.url);
    const dev = await newDeveloper(server);
    const second = await api('POST', '/api/tdk/keys/generate', {
      token: dev.session,
      body: { name: 'second' },
    });
    const call = { agent_id: 'memory', input: { action: 'store', key: 'secret-of', value: dev.email } };
    const sync = await api('POST', '/api/tdk/v1/call', { token: dev.apiKey, body: call });
    const queued = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { ...call, async: true },
    });
    expect([second.status, sync.status, queued.status]).toEqual([200, 200, 202]);
    while (
      (await api('GET', `/api/tdk/v1/calls/${queued.body.id}`, { token: dev.apiKey })).body.status !==
      'succeeded'
    ) {
      await sleep(50);
    }
    return {
      ...dev,
      keyIds: [dev.keyId, second.body.key.id],
      callIds: [sync.body.id, queued.body.id],
      wallets: [dev.wallet, second.body.key.wallet.address],
    };
  }

  /** A request as B: the answer is kept for the final check. */
  async function asB(
    method: string,
    path: string,
    options: { token: string; body?: unknown; headers?: Record<string, string> },
  ) {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.token}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await res.text();
    seenByB.push({
      request: `${method} ${path} ${JSON.stringify(options)}`,
      answer: `${res.status}\n${[...res.headers].join('\n')}\n${text}`,
    });
    // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
    const body: any = tryJson(text);
    return { status: res.status, text, body };
  }

  /** A procedure over tRPC as B: GET with `?input=` for queries and subscriptions, POST for mutations. */
  function trpcAsB(name: string, type: string, token: string, input?: unknown) {
    if (type === 'mutation') return asB('POST', `/trpc/${name}`, { token, body: input ?? {} });
    const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return asB('GET', `/trpc/${name}${query}`, { token });
  }

  const routesOf = (wanted: Access) => restRoutes.filter((r) => accessOf(r.procedure) === wanted);
  const proceduresOf = (wanted: Access) => procedures.filter((p) => accessOf(p.name) === wanted);

  it('classifies every REST route and tRPC procedure (a new one must say how it treats tenants)', () => {
    const unclassified = [...restRoutes.map((r) => r.procedure), ...procedures.map((p) => p.name)].filter(
      (name) => accessOf(name) === undefined,
    );
    expect(unclassified).toEqual([]);
  });

  it('refuses every admin route to a customer, by session or API key, with 403/401 and no data', async () => {
    expect(routesOf('admin').length).toBeGreaterThan(5);
    const ids = { id: a.userId, user_id: a.userId, key_id: a.keyId, agent_id: 'memory' };
    for (const route of routesOf('admin')) {
      const path = route.path.replace('{id}', a.userId);
      const body = route.method === 'GET' ? undefined : { tier: 'pro', role: 'admin', status: 'suspended' };
      const bySession = await asB(route.method, path, { token: b.session, ...(body ? { body } : {}) });
      expect(bySession.status, `${route.method} ${path}`).toBe(403);
      const byKey = await asB(route.method, path, { token: b.apiKey, ...(body ? { body } : {}) });
      expect(byKey.status, `${route.method} ${path} by API key`).toBe(401);
    }
    for (const { name, type } of proceduresOf('admin')) {
      const res = await trpcAsB(name, type, b.session, ids);
      // A subscription answers as an event stream; its error event carries the same code.
      expect(
        res.status === 403 || res.text.includes('"code":"forbidden"'),
        `${name}: ${res.text.slice(0, 200)}`,
      ).toBe(true);
    }
    // Nothing changed on A's account.
    const row = await server.tdk.database.db
      .selectFrom('app_user')
      .selectAll()
      .where('id', '=', a.userId)
      .executeTakeFirstOrThrow();
    expect([row.role, row.tier, row.status]).toEqual(['customer', 'free', 'active']);
  });

  it("answers 404 to B for each of A's keys, over REST and tRPC, and leaves them untouched", async () => {
    const before = await keyRows(a.keyIds);
    // A valid body for each, as bodies are strict: what is refused must be B, not the body.
    const bodyOf = (procedure: string) =>
      ({ 'keys.roll': { grace_seconds: 0 }, 'keys.update': { name: 'taken' } })[procedure] ?? {};
    for (const keyId of a.keyIds) {
      for (const route of routesOf('key-by-id')) {
        const res = await asB(route.method, route.path.replace('{id}', keyId), {
          token: b.session,
          body: route.method === 'GET' ? undefined : bodyOf(route.procedure),
        });
        expect(res.status, `${route.method} ${route.path}`).toBe(404);
      }
      for (const { name, type } of proceduresOf('key-by-id')) {
        const res = await trpcAsB(name, type, b.session, { id: keyId, ...bodyOf(name) });
        expect(res.status, name).toBe(404);
      }
    }
    expect(await keyRows(a.keyIds)).toEqual(before);
    expect((await jsonClient(server.url)('GET', '/api/tdk/usage/current', { token: a.apiKey })).status).toBe(
      200,
    );
  });

  it("answers 404 to B's keys for each of A's calls, over REST, tRPC and the event stream", async () => {
    for (const callId of a.callIds) {
      for (const route of routesOf('call-by-id')) {
        const res = await asB(route.method, route.path.replace('{id}', callId), { token: b.apiKey });
        expect(res.status, route.path).toBe(404);
      }
      for (const { name, type } of proceduresOf('call-by-id')) {
        expect((await trpcAsB(name, type, b.apiKey, { id: callId })).status, name).toBe(404);
      }
      const events = await asB('GET', `/api/tdk/v1/calls/${callId}/events`, {
        token: b.apiKey,
        headers: { 'last-event-id': '0' },
      });
      expect(events.status).toBe(404);
      // A session is not an API key, even for the account that owns the call.
      expect(
        (await jsonClient(server.url)('GET', `/api/tdk/v1/calls/${callId}`, { token: a.session })).status,
      ).toBe(401);
    }
  });

  it('lists only B’s own rows', async () => {
    for (const route of routesOf('own-list')) {
      const res = await asB(route.method, route.path, { token: b.session });
      expect(res.status).toBe(200);
      expect(res.body.items.map((k: { id: string }) => k.id).sort()).toEqual([...b.keyIds].sort());
    }
    for (const { name, type } of proceduresOf('own-list')) {
      const res = await trpcAsB(name, type, b.session);
      expect(res.body.result.data.items.map((k: { id: string }) => k.id).sort()).toEqual(
        [...b.keyIds].sort(),
      );
    }
  });

  it('lists only the calls of B’s account', async () => {
    expect(routesOf('own-call-list').length + proceduresOf('own-call-list').length).toBeGreaterThan(0);
    for (const route of routesOf('own-call-list')) {
      const res = await asB(route.method, route.path, { token: b.apiKey });
      expect(res.status).toBe(200);
      expect(res.body.items.map((c: { id: string }) => c.id).sort()).toEqual([...b.callIds].sort());
    }
    for (const { name, type } of proceduresOf('own-call-list')) {
      const res = await trpcAsB(name, type, b.apiKey, {});
      expect(res.body.result.data.items.map((c: { id: string }) => c.id).sort()).toEqual(
        [...b.callIds].sort(),
      );
    }
  });

  it('shows B its own account, usage and wallet only', async () => {
    expect(routesOf('own').length + proceduresOf('own').length).toBeGreaterThan(0);
    const withKey = (name: string) => name.startsWith('usage.');
    for (const route of routesOf('own')) {
      const res = await asB(route.method, route.path, {
        token: withKey(route.procedure) ? b.apiKey : b.session,
      });
      expect(res.status, route.path).toBe(200);
      if (route.procedure === 'usage.daily') {
        // Today counts B's calls, not A's.
        expect(res.body.items.reduce((sum: number, day: { calls: number }) => sum + day.calls, 0)).toBe(
          b.callIds.length,
        );
      } else {
        expect(res.text).toMatch(route.procedure === 'usage.current' ? b.wallet : b.userId);
      }
    }
    for (const { name, type } of proceduresOf('own')) {
      expect((await trpcAsB(name, type, withKey(name) ? b.apiKey : b.session)).status, name).toBe(200);
    }
  });

  it("creates B's rows for B, and A's Idempotency-Key replays nothing of A's to B", async () => {
    expect(
      routesOf('own-create')
        .map((r) => r.procedure)
        .sort(),
    ).toEqual(['calls.create', 'keys.generate']);
    const { db } = server.tdk.database;
    const key = await asB('POST', '/api/tdk/keys/generate', { token: b.session, body: { name: 'b again' } });
    const keyOwner = await db
      .selectFrom('api_key')
      .select('user_id')
      .where('id', '=', key.body.key.id)
      .executeTakeFirst();
    expect(keyOwner).toEqual({ user_id: b.userId });

    // The very Idempotency-Key and body A used: idempotency is per API key, so this is B's own new call.
    const request = {
      body: { agent_id: 'memory', input: { action: 'retrieve', key: 'secret-of' } },
      headers: { 'idempotency-key': 'the-same-idempotency-key' },
    };
    const ofA = await jsonClient(server.url)('POST', '/api/tdk/v1/call', { token: a.apiKey, ...request });
    const ofB = await asB('POST', '/api/tdk/v1/call', { token: b.apiKey, ...request });
    expect(ofB.status).toBe(200);
    expect(ofB.body.id).not.toBe(ofA.body.id);
    const callOwner = await db
      .selectFrom('call')
      .select('user_id')
      .where('id', '=', ofB.body.id)
      .executeTakeFirst();
    expect(callOwner).toEqual({ user_id: b.userId });
    // The memory agent keeps each wallet's keys apart: each reads back its own value.
    expect([ofA.body.output.value, ofB.body.output.value]).toEqual([a.email, b.email]);
  });

  it("ends only B's own sessions: A stays signed in", async () => {
    const api = jsonClient(server.url);
    for (const route of routesOf('own-session')) {
      const body =
        route.procedure === 'auth.changePassword' ? { current_password: 'wrong', new_password: 'x' } : {};
      await asB(route.method, route.path, { token: b.session, body });
    }
    for (const { name, type } of proceduresOf('own-session')) await trpcAsB(name, type, b.session);
    expect((await api('GET', '/api/tdk/me', { token: a.session })).body.id).toBe(a.userId);
    expect((await api('GET', '/api/tdk/me', { token: b.session })).status).toBe(401);
  });

  it('applies no Stripe event that Stripe did not sign', async () => {
    for (const route of routesOf('stripe-signed')) {
      const res = await asB(route.method, route.path, {
        token: b.session,
        body: { id: 'evt_forged', type: 'invoice.payment_failed', data: { object: { customer: a.userId } } },
      });
      // 400 without a valid signature; 503 on a server without Stripe (as here).
      expect([400, 503]).toContain(res.status);
    }
    expect(await server.tdk.database.db.selectFrom('stripe_event').selectAll().execute()).toEqual([]);
  });

  it("never showed B anything of A's (ids, wallets, email, secrets) beyond what B itself sent", () => {
    const marks = [a.userId, a.email, a.session, a.apiKey, ...a.keyIds, ...a.callIds, ...a.wallets];
    const leaks = seenByB.flatMap(({ request, answer }) =>
      marks
        .filter((mark) => answer.includes(mark) && !request.includes(mark))
        .map((m) => `${m} in ${answer}`),
    );
    expect(seenByB.length).toBeGreaterThan(20);
    expect(leaks).toEqual([]);
  });

  const keyRows = (ids: string[]) =>
    server.tdk.database.db
      .selectFrom('api_key')
      .select(['id', 'status', 'secret_hash', 'previous_secret_hash', 'revoked_at'])
      .where('id', 'in', ids)
      .orderBy('id')
      .execute();
});

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
