import type { AddressInfo } from 'node:net';
import { ensureAdmin } from '@tdk/api';
import { testDatabaseKinds } from '@tdk/db/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { type JsonResponse, jsonClient } from './support/http';

const strongPassword = 'correct horse battery staple';
let counter = 0;
const freshEmail = (label: string) => `${label}.${Date.now()}.${++counter}@example.com`;

describe.each(testDatabaseKinds)('accounts on %s', (kind) => {
  let server: TestServer;
  let api: ReturnType<typeof jsonClient>;
  beforeAll(async () => {
    server = await startTestServer(kind, {
      TDK_LOGIN_FREE_ATTEMPTS: '3',
      TDK_LOGIN_DELAY_MS: '100',
      TDK_LOGIN_MAX_DELAY_MS: '400',
      TDK_LOGIN_BLOCK_SECONDS: '2',
    });
    api = jsonClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const register = async (email = freshEmail('dev'), password = strongPassword) => {
    const res = await api('POST', '/api/tdk/auth/register', { body: { email, password } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return { email, password, token: res.body.session.token as string, id: res.body.user.id as string };
  };
  const login = (email: string, password: string) =>
    api('POST', '/api/tdk/auth/login', { body: { email, password } });
  const auditCount = async (action: string, targetId?: string) => {
    let q = server.tdk.database.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('action', '=', action);
    if (targetId) q = q.where('target_id', '=', targetId);
    return Number((await q.executeTakeFirstOrThrow()).n);
  };
  const adminToken = async () => {
    const email = freshEmail('admin');
    await ensureAdmin(server.tdk.database.db, { email, password: strongPassword });
    return (await login(email, strongPassword)).body.session.token as string;
  };

  it('runs register → login → me → refresh → logout, and the old tokens stop working', async () => {
    const email = freshEmail('Flow').toUpperCase();
    const registered = await api('POST', '/api/tdk/auth/register', {
      body: { email: ` ${email} `, password: strongPassword },
    });
    expect(registered.status).toBe(200);
    expect(registered.body.user).toMatchObject({
      email: email.toLowerCase(),
      role: 'customer',
      tier: 'free',
      status: 'active',
    });
    expect(registered.body.user.id).toMatch(/^usr_/);

    const loggedIn = await login(email.toLowerCase(), strongPassword);
    expect(loggedIn.status).toBe(200);
    const token = loggedIn.body.session.token as string;
    const me = await api('GET', '/api/tdk/me', { token });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(email.toLowerCase());

    const refreshed = await api('POST', '/api/tdk/auth/refresh', { token });
    expect(refreshed.status).toBe(200);
    const newToken = refreshed.body.session.token as string;
    expect(newToken).not.toBe(token);
    expect((await api('GET', '/api/tdk/me', { token })).status).toBe(401);
    expect((await api('GET', '/api/tdk/me', { token: newToken })).status).toBe(200);

    expect((await api('POST', '/api/tdk/auth/logout', { token: newToken })).status).toBe(200);
    const after = await api('GET', '/api/tdk/me', { token: newToken });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthenticated');
    // The first session, from registration, is still valid: logout ends only its own session.
    expect((await api('GET', '/api/tdk/me', { token: registered.body.session.token })).status).toBe(200);
  });

  it('gives duplicate, weak and malformed credentials a 400 with a specific code', async () => {
    const { email } = await register();
    const cases = [
      [{ email: email.toUpperCase(), password: strongPassword }, 'email_taken'],
      [{ email: freshEmail('weak'), password: 'short' }, 'weak_password'],
      [{ email: freshEmail('common'), password: 'password123' }, 'weak_password'],
      [{ email: 'same.as.email@example.com', password: 'same.as.email@example.com' }, 'weak_password'],
      [{ email: 'not-an-email', password: strongPassword }, 'invalid_email'],
      [{ email: 42, password: strongPassword }, 'invalid_input'],
    ] as const;
    for (const [body, code] of cases) {
      const res = await api('POST', '/api/tdk/auth/register', { body });
      expect(res.status, code).toBe(400);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.request_id).toMatch(/^req_/);
    }
  });

  it('answers a wrong password and an unknown email the same way', async () => {
    const { email } = await register();
    const wrong = await login(email, 'not the password at all');
    const unknown = await login(freshEmail('nobody'), 'not the password at all');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect({ ...wrong.body.error, request_id: 'x' }).toEqual({ ...unknown.body.error, request_id: 'x' });
  });

  it('refuses admin procedures to customers with 403, on REST and tRPC', async () => {
    const { token } = await register();
    const rest = await api('GET', '/api/tdk/admin/audit', { token });
    expect(rest.status).toBe(403);
    expect(rest.body.error.code).toBe('forbidden');
    const trpc = await api('GET', '/trpc/admin.users.list?input=%7B%7D', { token });
    expect(trpc.status).toBe(403);
    expect(trpc.body.error.data.code).toBe('forbidden');
    expect(JSON.stringify(trpc.body)).not.toMatch(/stack|\.ts:\d+/);
    expect((await api('GET', '/api/tdk/admin/audit')).status).toBe(401);
  });

  it('lets an admin suspend an account: its sessions end and it cannot sign in', async () => {
    const admin = await adminToken();
    const user = await register();
    const suspended = await api('PATCH', `/api/tdk/admin/users/${user.id}`, {
      token: admin,
      body: { status: 'suspended' },
    });
    expect(suspended.status).toBe(200);
    expect(suspended.body.status).toBe('suspended');
    expect((await api('GET', '/api/tdk/me', { token: user.token })).status).toBe(401);
    const refused = await login(user.email, user.password);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('account_suspended');

    await api('PATCH', `/api/tdk/admin/users/${user.id}`, {
      token: admin,
      body: { status: 'active', tier: 'paid' },
    });
    const back = await login(user.email, user.password);
    expect(back.status).toBe(200);
    expect(back.body.user.tier).toBe('paid');
    expect(await auditCount('user.updated', user.id)).toBe(2);
  });

  it('logs out everywhere, and a password change signs out the other sessions', async () => {
    const user = await register();
    const second = (await login(user.email, user.password)).body.session.token as string;
    const third = (await login(user.email, user.password)).body.session.token as string;

    const changed = await api('POST', '/api/tdk/auth/password', {
      token: third,
      body: { current_password: user.password, new_password: 'a brand new long passphrase' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.signed_out_sessions).toBe(2);
    expect((await api('GET', '/api/tdk/me', { token: user.token })).status).toBe(401);
    expect((await api('GET', '/api/tdk/me', { token: second })).status).toBe(401);
    expect((await api('GET', '/api/tdk/me', { token: third })).status).toBe(200);
    expect((await login(user.email, user.password)).status).toBe(401);

    const fourth = (await login(user.email, 'a brand new long passphrase')).body.session.token as string;
    const all = await api('POST', '/api/tdk/auth/logout-all', { token: fourth });
    expect(all.body.signed_out_sessions).toBe(2);
    expect((await api('GET', '/api/tdk/me', { token: third })).status).toBe(401);
  });

  it('slows down, then blocks, repeated wrong passwords for one email; others still sign in; the block lifts', async () => {
    const victim = await register();
    const bystander = await register();
    const timings: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const res = await login(victim.email, `wrong password number ${i}`);
      timings.push(performance.now() - started);
      expect(res.status).toBe(401);
    }
    // Attempts after the free ones wait at least the configured delay (100 ms, doubling, capped at 400 ms).
    expect(Math.min(...timings.slice(4))).toBeGreaterThanOrEqual(95);
    const blocked = await login(victim.email, victim.password);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('rate_limited');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(blocked.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(blocked.headers.get('ratelimit-limit'))).toBeGreaterThan(0);

    expect((await login(bystander.email, bystander.password)).status).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await login(victim.email, victim.password)).status).toBe(200);
    expect(await auditCount('auth.login_failed', victim.id)).toBe(10);
  });

  it('limits account requests per user by tier, with rate-limit headers', async () => {
    const { token } = await register();
    // A refused request took its point too, and says what is left.
    const refused = await api('GET', '/api/tdk/keys/key_nope', { token });
    expect(refused.status).toBe(404);
    expect(refused.headers.get('ratelimit-limit')).toBe('10');
    expect(refused.headers.get('ratelimit-remaining')).toBe('9');
    const statuses: number[] = [];
    let last: JsonResponse | undefined;
    for (let i = 0; i < 10; i++) {
      last = await api('GET', '/api/tdk/me', { token });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 9).every((s) => s === 200)).toBe(true);
    expect(last?.status).toBe(429);
    expect(last?.headers.get('ratelimit-limit')).toBe('10');
    expect(last?.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('signs the admin app in with an HttpOnly, SameSite cookie', async () => {
    const user = await register();
    const res = await fetch(`${server.url}/api/tdk/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^tdk_session=[a-z2-7]+;/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).not.toContain('Secure'); // plain http on a developer machine
    const me = await fetch(`${server.url}/api/tdk/me`, { headers: { cookie: cookie.split(';')[0] ?? '' } });
    expect(me.status).toBe(200);
    // Not extended yet: the cookie stands as it was set.
    expect(me.headers.get('set-cookie')).toBeNull();
  });

  it('extends the cookie with its session, and never hands the cookie session to scripts as a token', async () => {
    const user = await register();
    const signedIn = await fetch(`${server.url}/api/tdk/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
    const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    // A session in the second half of its life is extended by a full one when used.
    await server.tdk.database.db
      .updateTable('session')
      .set({ expires_at: new Date(Date.now() + 60_000) })
      .where('user_id', '=', user.id)
      .execute();
    const me = await fetch(`${server.url}/api/tdk/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    const renewed = me.headers.get('set-cookie') ?? '';
    expect(renewed.split(';')[0]).toBe(cookie);
    const expires = Date.parse(/Expires=([^;]+)/.exec(renewed)?.[1] ?? '');
    expect(expires).toBeGreaterThan(Date.now() + 29 * 24 * 3600_000);

    const refreshed = await fetch(`${server.url}/api/tdk/auth/refresh`, {
      method: 'POST',
      headers: { cookie, 'x-tdk-csrf': '1' },
    });
    expect(refreshed.status).toBe(403);
    const refusal = (await refreshed.json()) as { error: { code: string } };
    expect(refusal.error.code).toBe('forbidden');
    expect(JSON.stringify(refusal)).not.toContain('"session"');
    // A Bearer token rotates as before, and no cookie comes with it.
    const rotated = await api('POST', '/api/tdk/auth/refresh', { token: user.token });
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('set-cookie')).toBeNull();
  });

  it('stores no plaintext password or session token', async () => {
    const user = await register();
    const db = server.tdk.database.db;
    const users = JSON.stringify(await db.selectFrom('app_user').selectAll().execute());
    const sessions = JSON.stringify(await db.selectFrom('session').selectAll().execute());
    const audit = JSON.stringify(await db.selectFrom('audit_log').selectAll().execute());
    for (const text of [users, sessions, audit]) {
      expect(text).not.toContain(user.password);
      expect(text).not.toContain(user.token);
    }
    expect(users).toContain('$argon2id$');
    expect(server.rawLogs()).not.toContain(user.token);
    expect(server.rawLogs()).not.toContain(user.password);
  });

  it('writes exactly one audit row per mutation', async () => {
    const user = await register();
    expect(await auditCount('auth.registered', user.id)).toBe(1);
    const token = (await login(user.email, user.password)).body.session.token as string;
    expect(await auditCount('auth.login', user.id)).toBe(1);
    await login(user.email, 'wrong password entirely');
    expect(await auditCount('auth.login_failed', user.id)).toBe(1);
    await api('POST', '/api/tdk/auth/refresh', { token });
    expect(await auditCount('auth.session_refreshed', user.id)).toBe(1);
    await api('POST', '/api/tdk/auth/logout', { token: user.token });
    expect(await auditCount('auth.logout', user.id)).toBe(1);

    const admin = await adminToken();
    await api('PATCH', `/api/tdk/admin/users/${user.id}`, {
      token: admin,
      body: { role: 'admin', tier: 'pro' },
    });
    expect(await auditCount('user.updated', user.id)).toBe(1);
    const entries = await api('GET', `/api/tdk/admin/audit?target_id=${user.id}&action=auth.`, {
      token: admin,
    });
    expect(entries.status).toBe(200);
    expect(entries.body.items.map((e: { action: string }) => e.action).sort()).toEqual(
      ['auth.login', 'auth.login_failed', 'auth.logout', 'auth.registered', 'auth.session_refreshed'].sort(),
    );
    const update = await api('GET', `/api/tdk/admin/audit?target_id=${user.id}&action=user.updated`, {
      token: admin,
    });
    expect(update.body.items[0].details.changes).toEqual({
      role: { from: 'customer', to: 'admin' },
      tier: { from: 'free', to: 'pro' },
    });
  });

  it('writes the audit row atomically: a change that fails leaves none', async () => {
    const db = server.tdk.database.db;
    const email = freshEmail('atomic');
    // Make the last step of registration (the session insert) fail, after the user and audit rows.
    await sql`create function refuse_session() returns trigger language plpgsql as $$ begin raise exception 'refused by test'; end $$`.execute(
      db,
    );
    await sql`create trigger refuse_session before insert on session for each row execute function refuse_session()`.execute(
      db,
    );
    try {
      const res = await api('POST', '/api/tdk/auth/register', { body: { email, password: strongPassword } });
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('internal_error');
      expect(JSON.stringify(res.body)).not.toContain('refused by test');
    } finally {
      await sql`drop trigger refuse_session on session`.execute(db);
      await sql`drop function refuse_session`.execute(db);
    }
    expect(
      await db.selectFrom('app_user').select('id').where('email', '=', email).executeTakeFirst(),
    ).toBeUndefined();
    const rows = await db
      .selectFrom('audit_log')
      .select('id')
      .where('action', '=', 'auth.registered')
      .execute();
    const audits = await db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'auth.registered')
      .execute();
    expect(audits.filter((a) => (a.details as { email?: string }).email === email)).toHaveLength(0);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('pages through accounts for admins without loading them all', async () => {
    const admin = await adminToken();
    const first = await api('GET', '/api/tdk/admin/users?limit=2', { token: admin });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    const second = await api('GET', `/api/tdk/admin/users?limit=2&cursor=${first.body.next_cursor}`, {
      token: admin,
    });
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    const found = await api(
      'GET',
      `/api/tdk/admin/users?query=${encodeURIComponent('@EXAMPLE.com')}&limit=200`,
      { token: admin },
    );
    expect(found.body.items.length).toBeGreaterThan(2);
  });

  it('pages rows a microsecond apart, and rows of one instant, each exactly once in order', async () => {
    // Postgres keeps microseconds: a cursor holding a millisecond Date skipped rows between two pages.
    const target = `usr_paging_${kind.replace(/\W/g, '')}`;
    const times = ['.123400', '.123300', '.123300', '.123200', '.122900'];
    await sql`insert into audit_log (id, at, actor_type, action, target_id)
      select 'aud_page_' || n, ('2026-12-01T10:00:00' || t || 'Z')::timestamptz, 'system', 'test.paging', ${target}
      from unnest(${times}::text[]) with ordinality as x(t, n)`.execute(server.tdk.database.db);
    const admin = await adminToken();
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: JsonResponse = await api(
        'GET',
        `/api/tdk/admin/audit?target_id=${target}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        { token: admin },
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((e: { id: string }) => e.id));
      cursor = page.body.next_cursor;
    }
    expect(seen).toEqual(['aud_page_1', 'aud_page_3', 'aud_page_2', 'aud_page_4', 'aud_page_5']);
  });
});

describe('behind a proxy (TDK_TRUST_PROXY=1)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('pglite-memory', { TDK_TRUST_PROXY: '1', TDK_LOGIN_MAX_FAILS: '2' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('takes the address its proxy saw, not the one a client writes into X-Forwarded-For', async () => {
    const email = freshEmail('proxied');
    const api = jsonClient(server.url);
    expect(
      (await api('POST', '/api/tdk/auth/register', { body: { email, password: strongPassword } })).status,
    ).toBe(200);
    // The client varies the left end on every try; the proxy appends the address it saw.
    const attempt = (i: number) =>
      api('POST', '/api/tdk/auth/login', {
        body: { email, password: `wrong password ${i}` },
        headers: { 'x-forwarded-for': `203.0.113.${i}, 198.51.100.7` },
      });
    const statuses = [];
    for (let i = 1; i <= 3; i++) statuses.push((await attempt(i)).status);
    expect(statuses).toEqual([401, 401, 429]);
    const ips = await server.tdk.database.db
      .selectFrom('audit_log')
      .select('ip')
      .where('action', '=', 'auth.login_failed')
      .execute();
    expect(new Set(ips.map((row) => row.ip))).toEqual(new Set(['198.51.100.7']));
  });
});

describe('sign-ups from one address (TDK_SIGNUPS_PER_IP_PER_HOUR=2)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('pglite-memory', { TDK_SIGNUPS_PER_IP_PER_HOUR: '2' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers 429 with rate-limit headers past the hourly sign-ups, refused attempts counted', async () => {
    const api = jsonClient(server.url);
    const signUp = (email: string, password = strongPassword) =>
      api('POST', '/api/tdk/auth/register', { body: { email, password } });
    expect((await signUp(freshEmail('first'))).status).toBe(200);
    expect((await signUp(freshEmail('weak'), 'short')).status).toBe(400);
    const third = await signUp(freshEmail('third'));
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('rate_limited');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(third.headers.get('ratelimit-limit')).toBe('2');
    expect(third.headers.get('ratelimit-remaining')).toBe('0');
  });
});

describe('served at an https public URL (TDK_PUBLIC_URL)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('pglite-memory', { TDK_PUBLIC_URL: 'https://tdk.example.com' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('sets the session cookie Secure, though TLS ends at a proxy it does not trust to say so', async () => {
    // `server.url` is the public URL, which does not resolve here: the same app on a local port.
    const local = server.tdk.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => local.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(local.address() as AddressInfo).port}`;
      const email = freshEmail('https');
      const registered = await jsonClient(url)('POST', '/api/tdk/auth/register', {
        body: { email, password: strongPassword },
      });
      expect(registered.status).toBe(200);
      const signedIn = await fetch(`${url}/api/tdk/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: strongPassword }),
      });
      expect(signedIn.headers.get('set-cookie')).toMatch(/; Secure/);
    } finally {
      local.close();
    }
  });
});
