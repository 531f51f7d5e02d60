import { testDatabaseKinds } from '@tdk/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { jsonClient } from './support/http';

const strongPassword = 'correct horse battery staple';
let counter = 0;
const freshEmail = (label: string) => `${label}.${Date.now()}.${++counter}@example.com`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How many of each status. */
function tally(statuses: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/**
 * Guesses sent in parallel: each is counted before its password is checked, so a burst cannot have
 * more checked than the limits allow (a check made before any of them had failed let them all through).
 */
describe.each(testDatabaseKinds)('password guesses in parallel on %s', (kind) => {
  let server: TestServer;
  let api: ReturnType<typeof jsonClient>;
  beforeAll(async () => {
    server = await startTestServer(kind, {
      TDK_LOGIN_MAX_FAILS: '3',
      TDK_LOGIN_FREE_ATTEMPTS: '1',
      TDK_LOGIN_DELAY_MS: '1000',
      TDK_LOGIN_MAX_DELAY_MS: '1000',
      TDK_LOGIN_BLOCK_SECONDS: '60',
    });
    api = jsonClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const register = async () => {
    const email = freshEmail('dev');
    const res = await api('POST', '/api/tdk/auth/register', { body: { email, password: strongPassword } });
    expect(res.status).toBe(200);
    return { email, token: res.body.session.token as string };
  };
  const login = (email: string, password: string) =>
    api('POST', '/api/tdk/auth/login', { body: { email, password } });
  const failedLogins = async (email: string) =>
    (
      await server.tdk.database.db
        .selectFrom('audit_log')
        .select('details')
        .where('action', '=', 'auth.login_failed')
        .execute()
    ).filter((row) => (row.details as { email?: string }).email === email).length;

  it('checks at most the limit of 30 parallel wrong sign-ins for one email, and refuses the rest', async () => {
    const { email } = await register();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => login(email, `wrong guess ${i}`)));
    expect(tally(answers.map((a) => a.status))).toEqual({ 401: 3, 429: 27 });
    expect(await failedLogins(email)).toBe(3);
    // Blocked now, the right password too.
    expect((await login(email, strongPassword)).status).toBe(429);
  });

  it('refuses the right password sent while the limit of wrong ones are being checked', async () => {
    const { email } = await register();
    expect((await login(email, 'wrong guess')).status).toBe(401);
    // Past the free attempt each wrong one waits a second before its password is checked: the right
    // one comes meanwhile.
    const wrong = Array.from({ length: 10 }, (_, i) => login(email, `wrong guess ${i}`));
    await sleep(300);
    const right = await login(email, strongPassword);
    expect(right.status).toBe(429);
    expect(right.body.error.code).toBe('rate_limited');
    expect(tally((await Promise.all(wrong)).map((a) => a.status))).toEqual({ 401: 2, 429: 8 });
  });

  it('counts wrong current passwords of a password change like sign-ins, with one allowance for both', async () => {
    const { email, token } = await register();
    const change = (current: string, next = 'a brand new long passphrase') =>
      api('POST', '/api/tdk/auth/password', {
        token,
        body: { current_password: current, new_password: next },
      });
    // Under the account's rate (10 a minute), so only the guess limit refuses.
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => change(`wrong guess ${i}`)));
    expect(tally(answers.map((a) => a.status))).toEqual({ 400: 3, 429: 5 });
    // A wrong current password reads as a wrong input, not as a session that ended.
    expect(answers.find((a) => a.status === 400)?.body.error.code).toBe('invalid_input');
    expect((await change(strongPassword)).status).toBe(429);
    expect((await login(email, strongPassword)).status).toBe(429);
  });

  it('refuses a new password equal to the current one, and clears the count with a right one', async () => {
    const { email, token } = await register();
    const change = (current: string, next: string) =>
      api('POST', '/api/tdk/auth/password', {
        token,
        body: { current_password: current, new_password: next },
      });
    expect((await change('wrong guess 1', 'a brand new long passphrase')).status).toBe(400);
    expect((await change('wrong guess 2', 'a brand new long passphrase')).status).toBe(400);
    const same = await change(strongPassword, strongPassword);
    expect(same.status).toBe(400);
    expect(same.body.error.code).toBe('invalid_input');
    // The right password cleared the two failures: two more wrong ones are still checked.
    expect((await login(email, 'wrong guess 3')).status).toBe(401);
    expect((await login(email, 'wrong guess 4')).status).toBe(401);
    expect((await change(strongPassword, 'a brand new long passphrase')).status).toBe(200);
  });
});

describe.each(testDatabaseKinds)('failed sign-ins from one address in parallel on %s', (kind) => {
  let server: TestServer;
  let api: ReturnType<typeof jsonClient>;
  beforeAll(async () => {
    server = await startTestServer(kind, { TDK_LOGIN_IP_FAILS_PER_DAY: '5' });
    api = jsonClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('lets successes through without counting them, then checks at most the daily failures', async () => {
    const email = freshEmail('ip');
    expect(
      (await api('POST', '/api/tdk/auth/register', { body: { email, password: strongPassword } })).status,
    ).toBe(200);
    const signIn = (address: string, password: string) =>
      api('POST', '/api/tdk/auth/login', { body: { email: address, password } });
    const successes = await Promise.all(Array.from({ length: 4 }, () => signIn(email, strongPassword)));
    expect(successes.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    for (let i = 0; i < 4; i++) expect((await signIn(email, strongPassword)).status).toBe(200);

    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => signIn(freshEmail(`nobody${i}`), 'wrong guess')),
    );
    expect(tally(answers.map((a) => a.status))).toEqual({ 401: 5, 429: 15 });
    expect((await signIn(email, strongPassword)).status).toBe(429);
  });
});
