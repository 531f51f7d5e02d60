import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureAdmin, signerOf } from '@tdk/api';
import { testDatabaseKinds } from '@tdk/db/testing';
import { type StripeStandIn, signWebhookPayload, startStripeStandIn } from '@tdk/stripe-standin';
import bs58 from 'bs58';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';

/**
 * Secrets never leave the server except in the one answer that hands them out: a whole scenario
 * (sign-up, sign-in, keys, calls, webhooks, admin work, errors) runs, then every log line, every
 * answer (body and headers) and the audit log are searched for every secret it involved — passwords,
 * session tokens, API keys, wallet secret keys (decrypted here through the server's own vault), the
 * wallet KEK, the Stripe secret key and webhook secret. Each secret may appear only in the answer
 * that issued it.
 */
describe.each(testDatabaseKinds)('secrets on %s', (kind) => {
  const kek = randomBytes(32);
  const stripeKey = `sk_test_${randomBytes(12).toString('hex')}`;
  const webhookSecret = `whsec_${randomBytes(12).toString('hex')}`;
  let server: TestServer;
  let stripe: StripeStandIn;

  /** Every answer of the scenario (status, headers, body), in order, with the request it answered. */
  const answers: Array<{ request: string; text: string }> = [];
  /** Each secret, and the answer that issued it (none: never to be shown). */
  const secrets: Secret[] = [];
  const secret = (what: string, value: string, issuedBy?: number) => {
    secrets.push({ what, value, ...(issuedBy === undefined ? {} : { issuedBy }) });
    return value;
  };

  /** A request of the scenario; its answer (status, headers, body) is kept for the search. */
  async function send(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ) {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined || options.raw !== undefined
          ? { 'content-type': 'application/json' }
          : {}),
        ...options.headers,
      },
      ...(options.raw !== undefined ? { body: options.raw } : {}),
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    answers.push({
      request: `${method} ${path}`,
      text: `${res.status}\n${[...res.headers].map((h) => h.join(': ')).join('\n')}\n${text}`,
    });
    // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, body, index: answers.length - 1 };
  }

  beforeAll(async () => {
    stripe = await startStripeStandIn();
    server = await startTestServer(kind, {
      WALLET_ENCRYPTION_KEY: kek.toString('hex'),
      STRIPE_SECRET_KEY: stripeKey,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      STRIPE_API_URL: stripe.url,
      BILLING_REPORT_INTERVAL_SECONDS: '1',
      BILLING_DELIVERY_INTERVAL_SECONDS: '1',
      TDK_TIERS: JSON.stringify({ free: { accountRequestsPerMinute: 1_000 } }),
    });
    secret('the wallet KEK (hex)', kek.toString('hex'));
    secret('the wallet KEK (base64)', kek.toString('base64'));
    secret('the Stripe secret key', stripeKey);
    secret('the Stripe webhook secret', webhookSecret);
    await scenario();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await stripe?.close();
  });

  async function scenario() {
    const email = `dev.${Date.now()}@example.com`;
    const password = secret('the password', `first pass ${randomBytes(6).toString('hex')}`);
    const registered = await send('POST', '/api/tdk/auth/register', { body: { email, password } });
    const firstSession = secret('a session token', registered.body.session.token, registered.index);
    const userId = registered.body.user.id as string;
    await send('GET', '/api/tdk/me', { token: firstSession });

    // Signing in: a typo of the password fails first, then the right one, also over tRPC.
    const typo = secret('a mistyped password', `${password}!`);
    await send('POST', '/api/tdk/auth/login', { body: { email, password: typo } });
    const login = await send('POST', '/api/tdk/auth/login', { body: { email, password } });
    secret('a session token', login.body.session.token, login.index);
    const trpcLogin = await send('POST', '/trpc/auth.login', { body: { email, password } });
    const trpcSession = secret('a session token', trpcLogin.body.result.data.session.token, trpcLogin.index);
    const refreshed = await send('POST', '/api/tdk/auth/refresh', { token: login.body.session.token });
    const session = secret('a session token', refreshed.body.session.token, refreshed.index);

    // Keys: generated, listed, rolled; the old secret still works during its grace period.
    const generated = await send('POST', '/api/tdk/keys/generate', {
      token: session,
      body: { name: 'main' },
    });
    const firstKey = secret('an API key', generated.body.secret, generated.index);
    const keyId = generated.body.key.id as string;
    const spare = await send('POST', '/api/tdk/keys/generate', { token: session, body: {} });
    secret('an API key', spare.body.secret, spare.index);
    await send('GET', '/api/tdk/keys', { token: session });
    const rolled = await send('POST', `/api/tdk/keys/${keyId}/roll`, {
      token: session,
      body: { grace_seconds: 60 },
    });
    const apiKey = secret('an API key', rolled.body.secret, rolled.index);

    // Calls: sync, replayed, async with its event stream, and the errors callers make.
    const call = { agent_id: 'memory', input: { action: 'store', key: 'k', value: 'v' } };
    await send('POST', '/api/tdk/v1/call', {
      token: firstKey,
      body: call,
      headers: { 'idempotency-key': 'once' },
    });
    await send('POST', '/api/tdk/v1/call', {
      token: firstKey,
      body: call,
      headers: { 'idempotency-key': 'once' },
    });
    const queued = await send('POST', '/api/tdk/v1/call', { token: apiKey, body: { ...call, async: true } });
    await send('GET', `/api/tdk/v1/calls/${queued.body.id}/events`, { token: apiKey });
    await send('GET', `/api/tdk/v1/calls/${queued.body.id}`, { token: apiKey });
    await send('GET', '/api/tdk/usage/current', { token: apiKey });
    await send('POST', '/api/tdk/v1/call', { token: `${apiKey}x`, body: call });
    await send('POST', '/api/tdk/v1/call', {
      token: apiKey,
      body: { agent_id: 'memory', input: { action: 'nope' } },
    });
    await send('POST', '/api/tdk/v1/call', { token: apiKey, raw: `{"agent_id":"memory","input":"${apiKey}` });
    await send('GET', `/api/tdk/usage/current?api_key=${apiKey}&token=${session}`);
    await send('GET', '/api/tdk/me', { headers: { cookie: `tdk_session=${trpcSession}` } });
    await send('POST', '/api/tdk/auth/login', { raw: `{"email":"${email}","password":"${password}"` });

    // Billing: the customer reaches the Stripe stand-in; its invoice fails, then is paid (signed webhooks).
    let customer: string | null | undefined;
    while (!customer) {
      await sleep(50);
      customer = (
        await server.tdk.database.db
          .selectFrom('billing_account')
          .select('stripe_customer_id')
          .where('user_id', '=', userId)
          .executeTakeFirst()
      )?.stripe_customer_id;
    }
    const invoice = stripe.invoice({ customer, status: 'open', amount_due: 150 });
    for (const type of ['invoice.payment_failed', 'invoice.paid']) {
      const event = stripe.event(type, invoice);
      const headers = { 'stripe-signature': signWebhookPayload(event.payload, webhookSecret) };
      await send('POST', '/api/tdk/webhooks/stripe', { raw: event.payload, headers });
      await send('POST', '/api/tdk/webhooks/stripe', {
        raw: event.payload,
        headers: { 'stripe-signature': signWebhookPayload(event.payload, 'whsec_wrong') },
      });
    }

    // An admin at work, over REST and over tRPC (what the admin app does).
    const adminEmail = `admin.${Date.now()}@example.com`;
    const adminPassword = secret('the admin password', `admin pass ${randomBytes(6).toString('hex')}`);
    await ensureAdmin(server.tdk.database.db, { email: adminEmail, password: adminPassword });
    const adminLogin = await send('POST', '/api/tdk/auth/login', {
      body: { email: adminEmail, password: adminPassword },
    });
    const admin = secret('a session token', adminLogin.body.session.token, adminLogin.index);
    await send('POST', '/trpc/admin.signIn', { body: { email: adminEmail, password: adminPassword } });
    await send('GET', `/api/tdk/admin/users?query=${encodeURIComponent(email)}`, { token: admin });
    await send('PATCH', `/api/tdk/admin/users/${userId}`, { token: admin, body: { tier: 'paid' } });
    await send('GET', '/api/tdk/admin/audit?limit=200', { token: admin });
    await send('GET', '/api/tdk/admin/treasury', { token: admin });
    await send('GET', '/api/tdk/admin/reconciliation', { token: admin });
    await send('GET', '/api/tdk/admin/billing/periods', { token: admin });
    await send('GET', '/api/tdk/admin/billing/reports', { token: admin });
    await send('GET', '/api/tdk/admin/jobs', { token: admin });
    await send('GET', '/trpc/admin.overview', { token: admin });
    for (const procedure of ['admin.keys.list', 'admin.calls.list', 'admin.customers.list']) {
      await send('GET', `/trpc/${procedure}?input=%7B%7D`, { token: admin });
    }
    await send(
      'GET',
      `/trpc/admin.customers.get?input=${encodeURIComponent(JSON.stringify({ id: userId }))}`,
      {
        token: admin,
      },
    );
    await send('POST', '/trpc/admin.keys.roll', { token: admin, body: { id: keyId, grace_seconds: 0 } });
    await send('POST', '/trpc/admin.keys.createTestKey', { token: admin, body: {} });
    await send('GET', '/metrics');
    await send('GET', '/api/openapi.json');

    // The password changes; every session ends.
    const newPassword = secret('the new password', `second pass ${randomBytes(6).toString('hex')}`);
    await send('POST', '/api/tdk/auth/password', {
      token: session,
      body: { current_password: password, new_password: newPassword },
    });
    const again = await send('POST', '/api/tdk/auth/login', { body: { email, password: newPassword } });
    const last = secret('a session token', again.body.session.token, again.index);
    await send('POST', '/api/tdk/auth/logout-all', { token: last });
    await send('POST', '/api/tdk/auth/logout', { token: admin });

    // Background work (customer sync, usage delivery) has run and logged by now.
    await sleep(2_500);
  }

  /** Every wallet's secret key, opened with the server's own vault, in each form it could be written out. */
  async function walletSecrets(): Promise<Secret[]> {
    const wallets = await server.tdk.database.db.selectFrom('wallet').selectAll().execute();
    return wallets.flatMap((wallet) => {
      const bytes = Buffer.from(signerOf(server.tdk.services, wallet).secretKey);
      const what = `the secret key of ${wallet.kind} wallet ${wallet.id}`;
      return [
        bs58.encode(bytes),
        bs58.encode(bytes.subarray(0, 32)),
        bytes.toString('hex'),
        bytes.toString('base64'),
        [...bytes.subarray(0, 16)].join(','),
        // A Uint8Array as JSON: {"0":…,"1":…}
        [...bytes.subarray(0, 8)]
          .map((b, i) => `"${i}":${b}`)
          .join(','),
        wallet.sealed_secret,
      ].map((value) => ({ what, value }));
    });
  }

  it('ran the whole scenario: keys, calls, webhooks and admin work all answered', () => {
    expect(answers.length).toBeGreaterThan(45);
    expect(answers.filter((a) => a.text.startsWith('5')).map((a) => a.request)).toEqual([]);
    const adminWork = answers.filter((a) => a.request.includes('admin'));
    expect(adminWork.filter((a) => !a.text.startsWith('2')).map((a) => a.request)).toEqual([]);
    expect(server.logs().length).toBeGreaterThan(40);
  });

  it('writes no secret to any log line', async () => {
    const logs = server.rawLogs();
    const found = [...secrets, ...(await walletSecrets())].filter(({ value }) => logs.includes(value));
    expect(found.map((s) => s.what)).toEqual([]);
  });

  it('shows each secret only in the one answer that issued it', async () => {
    // The search finds what it looks for: each issued secret is in its issuing answer.
    for (const { what, value, issuedBy } of secrets) {
      if (issuedBy !== undefined) expect(answers[issuedBy]?.text, what).toContain(value);
    }
    const found = [...secrets, ...(await walletSecrets())].flatMap((s) =>
      answers
        .filter((answer, index) => index !== s.issuedBy && answer.text.includes(s.value))
        .map((answer) => `${s.what} in the answer to ${answer.request}: ${answer.text.slice(0, 300)}`),
    );
    expect(found).toEqual([]);
  });

  it('keeps no secret in the audit log', async () => {
    const audit = JSON.stringify(await server.tdk.database.db.selectFrom('audit_log').selectAll().execute());
    expect(audit.length).toBeGreaterThan(1_000);
    const found = [...secrets, ...(await walletSecrets())].filter(({ value }) => audit.includes(value));
    expect(found.map((s) => s.what)).toEqual([]);
  });
});

interface Secret {
  what: string;
  value: string;
  /** The index of the answer that issued it, when one did. */
  issuedBy?: number;
}
