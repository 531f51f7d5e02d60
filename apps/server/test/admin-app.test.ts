import { once } from 'node:events';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApp } from '../src/http/admin-app';
import { startTestServer, type TestServer } from '../src/testing';
import { adminSession, newDeveloper } from './support/customers';
import { jsonClient } from './support/http';

/** The server's side of the admin app: serving its build at /admin, CSRF, sign-in, and admin-only procedures. */
describe('the admin app on the server', () => {
  let server: TestServer;
  let api: ReturnType<typeof jsonClient>;
  const dist = mkdtempSync(join(tmpdir(), 'tdk-admin-dist-'));
  beforeAll(async () => {
    mkdirSync(join(dist, 'assets'));
    writeFileSync(
      join(dist, 'index.html'),
      '<!doctype html><script type="module" src="/admin/assets/app.js"></script>',
    );
    writeFileSync(join(dist, 'assets', 'app.js'), 'console.log("admin")');
    server = await startTestServer('pglite-memory', { TDK_ADMIN_DIST: dist });
    api = jsonClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const trpcQuery = (path: string, input: unknown, token: string) =>
    api('GET', `/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { token });

  it('serves the build with strict headers, index.html for app paths, and 404 for missing assets', async () => {
    for (const path of ['/admin', '/admin/', '/admin/customers/usr_1']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.text()).toContain('/admin/assets/app.js');
      expect(res.headers.get('content-security-policy')).toMatch(
        /default-src 'self'.*frame-ancestors 'none'/,
      );
      expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-cache');
    }
    const asset = await fetch(`${server.url}/admin/assets/app.js`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${server.url}/admin/assets/nope.js`)).status).toBe(404);
  });

  it('says how to build the app when it is not built', async () => {
    const bare = express()
      .use('/admin', adminApp(join(dist, 'missing')))
      .listen(0, '127.0.0.1');
    await once(bare, 'listening');
    try {
      const res = await fetch(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/admin/`);
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('pnpm --filter @tdk/admin build');
    } finally {
      bare.close();
    }
  });

  it('signs admins in by cookie only, never handing the token to the page; refuses customers', async () => {
    const dev = await newDeveloper(server);
    const refused = await api('POST', '/trpc/admin.signIn', {
      body: { email: dev.email, password: 'correct horse battery staple' },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('set-cookie')).toBeNull();

    const admin = await adminSession(server);
    const me = await api('GET', '/api/tdk/me', { token: admin });
    const signedIn = await api('POST', '/trpc/admin.signIn', {
      body: { email: me.body.email, password: 'correct horse battery staple' },
    });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.result.data).toMatchObject({ email: me.body.email, role: 'admin' });
    const cookie = signedIn.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^tdk_session=[^;]+;.*HttpOnly/);
    expect(JSON.stringify(signedIn.body)).not.toContain(cookie.split(';')[0]!.split('=')[1]);
  });

  it('asks cookie-authenticated writes for the CSRF header; Bearer clients need none', async () => {
    const dev = await newDeveloper(server);
    const login = await api('POST', '/api/tdk/auth/login', {
      body: { email: dev.email, password: 'correct horse battery staple' },
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const forged = await api('POST', '/api/tdk/keys/generate', { headers: { cookie }, body: {} });
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe('forbidden');
    const forgedTrpc = await api('POST', '/trpc/keys.generate', { headers: { cookie }, body: {} });
    expect(forgedTrpc.status).toBe(403);

    const fromApp = await api('POST', '/trpc/keys.generate', {
      headers: { cookie, 'x-tdk-csrf': '1' },
      body: {},
    });
    expect(fromApp.status).toBe(200);
    const reads = await api('GET', '/api/tdk/keys', { headers: { cookie } });
    expect(reads.status).toBe(200);
    const bearer = await api('POST', '/api/tdk/keys/generate', { token: dev.session, body: {} });
    expect(bearer.status).toBe(200);
  });

  it("refuses every admin procedure to a customer's session (403)", async () => {
    // Paid: its account rate allows all these requests in one minute.
    const dev = await newDeveloper(server, { tier: 'paid' });
    const queries = {
      'admin.overview': {},
      'admin.customers.list': {},
      'admin.customers.get': { id: dev.userId },
      'admin.keys.list': {},
      'admin.calls.list': {},
      'admin.calls.get': { id: 'call_x' },
      'admin.usage.byDay': {},
      'admin.usage.breakdown': { by: 'agent' },
      'admin.agents.list': {},
    };
    for (const [path, input] of Object.entries(queries)) {
      const res = await trpcQuery(path, input, dev.session);
      expect(res.status, path).toBe(403);
    }
    for (const path of [
      'admin.keys.revoke',
      'admin.keys.roll',
      'admin.keys.topUp',
      'admin.keys.createTestKey',
      'admin.agents.try',
    ]) {
      const res = await api('POST', `/trpc/${path}`, {
        token: dev.session,
        body: { id: dev.keyId, grace_seconds: 0, key_id: dev.keyId, agent_id: 'memory', input: {} },
      });
      expect(res.status, path).toBe(403);
    }
  });

  it('pages through rows created in the same millisecond without skipping or repeating one', async () => {
    const admin = await adminSession(server);
    const devs = await Promise.all([1, 2, 3].map(() => newDeveloper(server, { tier: 'pro' })));
    // Microseconds apart, one millisecond: what the cursor (milliseconds) cannot tell apart.
    await sql`update app_user set created_at = '2020-01-01T00:00:00.000100Z'::timestamptz + (random() * interval '800 microseconds')
      where tier = 'pro'`.execute(server.tdk.database.db);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await trpcQuery('admin.customers.list', { tier: 'pro', limit: 1, cursor }, admin);
      expect(page.status).toBe(200);
      seen.push(...page.body.result.data.items.map((c: { id: string }) => c.id));
      cursor = page.body.result.data.next_cursor ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual(devs.map((d) => d.userId).sort());
  });
});
