// biome-ignore-all lint/suspicious/noExplicitAny: webhook answers are checked field by field
import { recoverCalls } from '@tdk/api';
import { testDatabaseKinds } from '@tdk/db/testing';
import { type StripeStandIn, signWebhookPayload, startStripeStandIn } from '@tdk/stripe-standin';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { customerOf, makeCalls, stripeEnv, webhookSecret } from './support/billing';
import { adminSession, newDeveloper } from './support/customers';
import { jsonClient } from './support/http';
import { countMovements } from './support/ledger';
import { until } from './support/processes';

/** Waits until every usage report is delivered (read from the database: admin routes are rate limited). */
async function allDelivered(server: TestServer) {
  await until('every usage report delivered', async () => {
    const waiting = await server.tdk.database.db
      .selectFrom('meter_report')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', '<>', 'delivered')
      .executeTakeFirstOrThrow();
    return Number(waiting.n) === 0;
  });
}

/** Delivers a Stripe event to the webhook, signed as Stripe would; answers the outcome. */
async function deliver(server: TestServer, event: { payload: string }): Promise<string> {
  const res = await fetch(`${server.url}/api/tdk/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': signWebhookPayload(event.payload, webhookSecret),
    },
    body: event.payload,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { outcome: string }).outcome;
}

/** Per meter event identifier, how many times it was sent (accepted or not). */
function sendsPerIdentifier(stripe: StripeStandIn): Map<string, number> {
  const sends = new Map<string, number>();
  for (const r of stripe.requests()) {
    if (
      r.method === 'POST' &&
      r.path === '/v1/billing/meter_events' &&
      r.idempotencyKey &&
      r.status === 200
    ) {
      sends.set(r.idempotencyKey, (sends.get(r.idempotencyKey) ?? 0) + 1);
    }
  }
  return sends;
}

describe.each(testDatabaseKinds)('Stripe metered billing on %s', (kind) => {
  let stripe: StripeStandIn;
  let server: TestServer;
  let api: ReturnType<typeof jsonClient>;
  beforeAll(async () => {
    stripe = await startStripeStandIn();
    server = await startTestServer(kind, stripeEnv(stripe));
    api = jsonClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
    await stripe?.close();
  });

  /** Cancels the customer's subscription in Stripe, as an operator or dunning would; answers it, canceled. */
  const cancelSubscription = async (customer: string) => {
    const active = stripe.subscriptions().find((s) => s.customer === customer && s.status === 'active');
    const res = await fetch(`${stripe.url}/v1/subscriptions/${active!.id}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer sk_test_tdk' },
    });
    expect(res.status).toBe(200);
    return stripe.subscriptions().find((s) => s.id === active!.id)!;
  };

  it('reports N calls so that the meter totals equal the developer costs, each unit once', async () => {
    const devs = [await newDeveloper(server), await newDeveloper(server, { tier: 'paid' })];
    const expected = new Map<string, number>();
    for (const [i, dev] of devs.entries()) {
      const total = await makeCalls(server, dev.apiKey, 3 + i * 2);
      expected.set(await customerOf(server, dev.userId), total);
    }
    await allDelivered(server);
    const totals = stripe.meterTotals('tdk_api_call');
    for (const [customer, total] of expected) expect(totals.get(customer)).toBe(total);
    const events = stripe.meterEvents();
    expect(new Set(events.map((e) => e.identifier)).size).toBe(events.length);

    const report = await api('GET', '/api/tdk/admin/reconciliation', { token: await adminSession(server) });
    expect(report.status).toBe(200);
    expect(report.body.differences).toEqual([]);
    expect(report.body.usage.differences).toEqual([]);
    expect(report.body.usage.undelivered_reports).toBe(0);

    const periods = await api('GET', `/api/tdk/admin/billing/periods?user_id=${devs[0]!.userId}`, {
      token: await adminSession(server),
    });
    expect(periods.body.items).toEqual([
      expect.objectContaining({
        user_id: devs[0]!.userId,
        operations: 3,
        billable_calls: 3,
        developer_cost: expected.get(await customerOf(server, devs[0]!.userId)),
        delivered: expected.get(await customerOf(server, devs[0]!.userId)),
      }),
    ]);
  });

  it('keeps usage while Stripe fails and delivers it once Stripe recovers, nothing lost or doubled', async () => {
    const dev = await newDeveloper(server);
    const customer = await customerOf(server, dev.userId);
    const before = stripe.meterTotals('tdk_api_call').get(customer) ?? 0;
    stripe.outage({ pathPrefix: '/v1/billing/meter_events' });
    const total = await makeCalls(server, dev.apiKey, 4);
    await until('a failing report', async () => {
      const row = await server.tdk.database.db
        .selectFrom('meter_report')
        .select('id')
        .where('user_id', '=', dev.userId)
        .where('last_error', 'is not', null)
        .executeTakeFirst();
      return row !== undefined;
    });
    const failing = await api('GET', '/api/tdk/admin/billing/reports?state=failing', {
      token: await adminSession(server),
    });
    expect(failing.body.counts.failing).toBeGreaterThanOrEqual(1);
    expect(failing.body.items).toContainEqual(
      expect.objectContaining({
        user_id: dev.userId,
        state: 'failing',
        last_error: expect.stringMatching(/\w/),
      }),
    );
    stripe.recover();
    await allDelivered(server);
    expect((stripe.meterTotals('tdk_api_call').get(customer) ?? 0) - before).toBe(total);
    for (const count of sendsPerIdentifier(stripe).values()) expect(count).toBe(1);
  });

  it('refuses a webhook with a bad signature, applies an event once, and suspends keys on a failed payment', async () => {
    const dev = await newDeveloper(server);
    await makeCalls(server, dev.apiKey, 1);
    const customer = await customerOf(server, dev.userId);
    const send = (payload: string, signature: string) =>
      fetch(`${server.url}/api/tdk/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body: payload,
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as any }));
    const invoice = stripe.invoice({ customer, status: 'open', amount_due: 150 });

    const failed = stripe.event('invoice.payment_failed', invoice);
    const forged = await send(failed.payload, signWebhookPayload(failed.payload, 'whsec_wrong'));
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('invalid_signature');
    const ok = await makeCalls(server, dev.apiKey, 1);
    expect(ok).toBeGreaterThan(0);

    const first = await send(failed.payload, signWebhookPayload(failed.payload, webhookSecret));
    expect(first).toMatchObject({ status: 200, body: { received: true, outcome: 'handled' } });
    const again = await send(failed.payload, signWebhookPayload(failed.payload, webhookSecret));
    expect(again).toMatchObject({ status: 200, body: { outcome: 'duplicate' } });

    const refused = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { agent_id: 'memory', input: { action: 'list' } },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('billing_past_due');
    // It can still see what it did and what it owes.
    const usage = await api('GET', '/api/tdk/usage/current', { token: dev.apiKey });
    expect(usage.status).toBe(200);
    expect(usage.body.quota.used_today).toBe(2);

    const paid = stripe.event('invoice.paid', { ...invoice, status: 'paid' });
    expect((await send(paid.payload, signWebhookPayload(paid.payload, webhookSecret))).body.outcome).toBe(
      'handled',
    );
    await makeCalls(server, dev.apiKey, 1);

    const unknown = stripe.event('charge.refunded', { id: 'ch_1', customer });
    expect((await send(unknown.payload, signWebhookPayload(unknown.payload, webhookSecret))).body).toEqual({
      received: true,
      outcome: 'ignored',
    });

    const audit = await api('GET', `/api/tdk/admin/audit?target_id=${dev.userId}&action=billing.`, {
      token: await adminSession(server),
    });
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual([
      'billing.keys_restored',
      'billing.keys_suspended',
    ]);
    const periods = await api('GET', `/api/tdk/admin/billing/periods?user_id=${dev.userId}`, {
      token: await adminSession(server),
    });
    expect(periods.body.items[0]).toMatchObject({ stripe_invoice_id: invoice.id, invoice_status: 'paid' });
  });

  it('applies invoice events in the order Stripe created them, whatever order they arrive in', async () => {
    const dev = await newDeveloper(server);
    await makeCalls(server, dev.apiKey, 1);
    const customer = await customerOf(server, dev.userId);
    const send = (event: { payload: string }) => deliver(server, event);
    const now = Math.floor(Date.now() / 1000);
    const invoice = stripe.invoice({ customer, status: 'open', amount_due: 150 });
    const paid = { ...invoice, status: 'paid' };

    // The payment that settled the invoice arrives first; the failure before it arrives late.
    expect(await send(stripe.event('invoice.paid', paid, { created: now }))).toBe('handled');
    expect(await send(stripe.event('invoice.payment_failed', invoice, { created: now - 60 }))).toBe(
      'superseded',
    );
    expect(await send(stripe.event('invoice.finalized', invoice, { created: now - 120 }))).toBe('superseded');
    expect(await makeCalls(server, dev.apiKey, 1)).toBeGreaterThan(0); // not suspended
    const periods = await api('GET', `/api/tdk/admin/billing/periods?user_id=${dev.userId}`, {
      token: await adminSession(server),
    });
    expect(periods.body.items[0]).toMatchObject({ stripe_invoice_id: invoice.id, invoice_status: 'paid' });

    // A failure after the payment still counts.
    expect(await send(stripe.event('invoice.payment_failed', invoice, { created: now + 60 }))).toBe(
      'handled',
    );
    const refused = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { agent_id: 'memory', input: { action: 'list' } },
    });
    expect(refused.body.error.code).toBe('billing_past_due');
  });

  it('records a canceled subscription and alerts the operators that its usage is not invoiced', async () => {
    const dev = await newDeveloper(server);
    await makeCalls(server, dev.apiKey, 1);
    const customer = await customerOf(server, dev.userId);
    const subscription = stripe.subscriptions().find((s) => s.customer === customer);
    expect(subscription).toBeDefined();
    const deleted = stripe.event('customer.subscription.deleted', { ...subscription, status: 'canceled' });
    expect(await deliver(server, deleted)).toBe('handled');
    // An update created before the deletion and delivered after it changes nothing.
    const late = stripe.event(
      'customer.subscription.updated',
      { ...subscription, status: 'active' },
      { created: Math.floor(Date.now() / 1000) - 60 },
    );
    expect(await deliver(server, late)).toBe('superseded');
    const account = await server.tdk.database.db
      .selectFrom('billing_account')
      .select('subscription_status')
      .where('user_id', '=', dev.userId)
      .executeTakeFirstOrThrow();
    expect(account.subscription_status).toBe('canceled');
    const canceledAlerts = () =>
      server
        .logs()
        .filter((l) => (l.alert as { kind?: string } | undefined)?.kind === 'billing_subscription_canceled');
    expect(canceledAlerts()).toHaveLength(1);

    // Another customer's, a moment later, is its own alert: it is not quieted as a repeat.
    const other = await newDeveloper(server);
    await makeCalls(server, other.apiKey, 1);
    const otherCustomer = await customerOf(server, other.userId);
    const otherSubscription = stripe.subscriptions().find((s) => s.customer === otherCustomer);
    const otherDeleted = stripe.event('customer.subscription.deleted', {
      ...otherSubscription,
      status: 'canceled',
    });
    await deliver(server, otherDeleted);
    expect(canceledAlerts().map((l) => (l.alert as { subject: string }).subject)).toEqual([
      customer,
      otherCustomer,
    ]);
  });

  it('refuses calls once the subscription ended, until an admin subscribes the account again', async () => {
    const dev = await newDeveloper(server);
    await makeCalls(server, dev.apiKey, 1);
    const customer = await customerOf(server, dev.userId);
    const ended = await cancelSubscription(customer);
    expect(await deliver(server, stripe.event('customer.subscription.deleted', ended))).toBe('handled');

    const refused = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { agent_id: 'memory', input: { action: 'list' } },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('subscription_canceled');
    expect(await countMovements(server, dev.walletId)).toBe(1);
    // The key still reads what it did: the one call before the end, and nothing since.
    const calls = await api('GET', '/api/tdk/v1/calls', { token: dev.apiKey });
    expect(calls.status).toBe(200);
    expect(calls.body.items).toHaveLength(1);
    expect((await api('GET', '/api/tdk/usage/current', { token: dev.apiKey })).status).toBe(200);

    const path = `/api/tdk/admin/users/${dev.userId}/resubscribe`;
    expect((await api('POST', path, { token: dev.session })).status).toBe(403);
    const admin = await adminSession(server);
    // Sent twice at once, as a double click would: one new subscription, recorded once.
    const [first, second] = await Promise.all([
      api('POST', path, { token: admin }),
      api('POST', path, { token: admin }),
    ]);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(second.body).toEqual(first.body);
    const renewed = first.body.subscription;
    expect(renewed).toMatchObject({ status: 'active', ended: false });
    expect(stripe.subscriptions().filter((s) => s.customer === customer)).toEqual([
      expect.objectContaining({ id: ended.id, status: 'canceled' }),
      expect.objectContaining({ id: renewed.id, status: 'active' }),
    ]);
    const again = await api('POST', path, { token: admin });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');

    // Calls flow again, and their usage reaches Stripe.
    await allDelivered(server);
    const before = stripe.meterTotals('tdk_api_call').get(customer) ?? 0;
    const cost = await makeCalls(server, dev.apiKey, 1);
    await allDelivered(server);
    expect((stripe.meterTotals('tdk_api_call').get(customer) ?? 0) - before).toBe(cost);

    const audit = await api('GET', `/api/tdk/admin/audit?target_id=${dev.userId}&action=billing.`, {
      token: admin,
    });
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        action: 'billing.resubscribed',
        details: { replaced: ended.id, subscription: renewed.id, status: 'active' },
      }),
      expect.objectContaining({ action: 'billing.subscription_ended' }),
    ]);
  });

  it('keeps a new subscription through late events about the one it replaced, and applies its own', async () => {
    const dev = await newDeveloper(server);
    const customer = await customerOf(server, dev.userId);
    // Ended by an update this time: a subscription whose first payment never came expires.
    const ended = { ...(await cancelSubscription(customer)), status: 'incomplete_expired' };
    expect(await deliver(server, stripe.event('customer.subscription.updated', ended))).toBe('handled');
    const refused = await api('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { agent_id: 'memory', input: { action: 'list' } },
    });
    expect(refused.body.error.code).toBe('subscription_canceled');
    // Ended by an update, it is as much an operator's matter as a deletion.
    const alerted = server
      .logs()
      .filter((l) => (l.alert as { kind?: string; subject?: string } | undefined)?.subject === customer);
    expect(alerted.map((l) => (l.alert as { kind: string }).kind)).toEqual(['billing_subscription_canceled']);
    const resubscribed = await api('POST', `/api/tdk/admin/users/${dev.userId}/resubscribe`, {
      token: await adminSession(server),
    });
    expect(resubscribed.status, JSON.stringify(resubscribed.body)).toBe(200);
    const renewed = stripe.subscriptions().find((s) => s.id === resubscribed.body.subscription.id)!;

    // The old subscription's events, however new, are about a subscription the account no longer has.
    const later = { created: Math.floor(Date.now() / 1000) + 60 };
    expect(await deliver(server, stripe.event('customer.subscription.deleted', ended, later))).toBe(
      'ignored',
    );
    expect(await deliver(server, stripe.event('customer.subscription.updated', ended, later))).toBe(
      'ignored',
    );
    // The new one's, even from the second it was created in, are not taken for older news.
    const own = stripe.event('customer.subscription.updated', renewed, { created: renewed.created });
    expect(await deliver(server, own)).toBe('handled');
    expect(await makeCalls(server, dev.apiKey, 1)).toBeGreaterThan(0);
  });

  it('reflects a tier change on the Stripe customer', async () => {
    const dev = await newDeveloper(server);
    const customer = await customerOf(server, dev.userId);
    const changed = await api('PATCH', `/api/tdk/admin/users/${dev.userId}`, {
      token: await adminSession(server),
      body: { tier: 'pro' },
    });
    expect(changed.status).toBe(200);
    await until('the tier on the Stripe customer', async () =>
      stripe.customers().some((c) => c.id === customer && c.metadata.tier === 'pro'),
    );
  });
});

describe('billing across processes and offline', () => {
  it('delivers with two worker processes on one database without sending any report twice', async () => {
    const stripe = await startStripeStandIn();
    const kind = testDatabaseKinds.includes('postgres') ? 'postgres' : 'pglite-memory';
    const first = await startTestServer(kind, stripeEnv(stripe));
    const second = await startTestServer(kind, stripeEnv(stripe), { shareDatabaseWith: first });
    try {
      const devs = await Promise.all([newDeveloper(first), newDeveloper(second), newDeveloper(first)]);
      const expected = new Map<string, number>();
      await Promise.all(
        devs.map(async (dev, i) => {
          const total = await makeCalls(i % 2 ? second : first, dev.apiKey, 4);
          expected.set(await customerOf(first, dev.userId), total);
        }),
      );
      await allDelivered(first);
      const totals = stripe.meterTotals('tdk_api_call');
      for (const [customer, total] of expected) expect(totals.get(customer)).toBe(total);
      expect(stripe.customers()).toHaveLength(3);
      for (const count of sendsPerIdentifier(stripe).values()) expect(count).toBe(1);
    } finally {
      await second.stop();
      await first.stop();
      await stripe.close();
    }
  });

  it('refuses to resubscribe while offline as a setting, not a moment: 404 for no account, else 409', async () => {
    const offline = await startTestServer('pglite-memory');
    try {
      const api = jsonClient(offline.url);
      const admin = await adminSession(offline);
      const unknown = await api('POST', '/api/tdk/admin/users/usr_nosuchaccount/resubscribe', {
        token: admin,
      });
      expect(unknown.status, JSON.stringify(unknown.body)).toBe(404);
      expect(unknown.body.error.code).toBe('not_found');

      const dev = await newDeveloper(offline);
      // As `customer.subscription.deleted` records it (this server has no Stripe to send one).
      await offline.tdk.database.db
        .insertInto('billing_account')
        .values({ user_id: dev.userId, stripe_subscription_id: 'sub_ended', subscription_status: 'canceled' })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ subscription_status: 'canceled' }))
        .execute();
      const refused = await api('POST', `/api/tdk/admin/users/${dev.userId}/resubscribe`, { token: admin });
      expect(refused.status, JSON.stringify(refused.body)).toBe(409);
      expect(refused.body.error).toMatchObject({
        code: 'conflict',
        message: 'Stripe billing is not configured on this server.',
      });
      // Trying again later changes nothing: no Retry-After invites it.
      expect(refused.headers.get('retry-after')).toBeNull();
    } finally {
      await offline.stop();
    }
  });

  it('keeps every report pending while offline and delivers all of them once a key is configured', async () => {
    const offline = await startTestServer('pglite-memory', { BILLING_REPORT_INTERVAL_SECONDS: '1' });
    const stripe = await startStripeStandIn();
    try {
      const dev = await newDeveloper(offline);
      const total = await makeCalls(offline, dev.apiKey, 3);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const waiting = await offline.tdk.database.db.selectFrom('meter_report').selectAll().execute();
      expect(waiting.length).toBeGreaterThan(0);
      expect(waiting.every((r) => r.status !== 'delivered')).toBe(true);
      expect(stripe.requests()).toHaveLength(0);

      // The same deployment, restarted with a Stripe key (a second process on the same data).
      const online = await startTestServer('pglite-memory', stripeEnv(stripe), {
        shareDatabaseWith: offline,
      });
      try {
        await allDelivered(online);
        const customer = await customerOf(online, dev.userId);
        expect(stripe.meterTotals('tdk_api_call').get(customer)).toBe(total);
      } finally {
        await online.stop();
      }
    } finally {
      await offline.stop();
      await stripe.close();
    }
  });
});

describe.each(testDatabaseKinds)('usage windows sealed under a call on %s', (kind) => {
  let server: TestServer;
  let api: ReturnType<typeof jsonClient>;
  const hour = 3_600_000;
  beforeAll(async () => {
    // Hour-long windows (the default): the current one does not end while the test runs.
    server = await startTestServer(kind, { BILLING_REPORT_INTERVAL_SECONDS: '3600' });
    api = jsonClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Seals the developer's report for the window `offset` windows from now, as delivery would. */
  const seal = (userId: string, offset: number) =>
    server.tdk.database.db
      .insertInto('meter_report')
      .values({
        id: `mtr_sealed_${userId}_${offset}`,
        user_id: userId,
        window_start: new Date((Math.floor(Date.now() / hour) + offset) * hour),
        value: '0',
        status: 'pending',
      })
      .execute();
  const reportsOf = async (userId: string) =>
    (
      await server.tdk.database.db
        .selectFrom('meter_report')
        .select(['window_start', 'value', 'calls', 'status'])
        .where('user_id', '=', userId)
        .orderBy('window_start')
        .execute()
    ).map((r) => ({ ...r, value: Number(r.value) }));
  const store = (apiKey: string) =>
    api('POST', '/api/tdk/v1/call', {
      token: apiKey,
      body: { agent_id: 'memory', input: { action: 'store', key: 'k', value: 'v' } },
    });

  it('puts the usage into the next window when the current one was sealed', async () => {
    const dev = await newDeveloper(server);
    await seal(dev.userId, 0);
    const res = await store(dev.apiKey);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [sealed, next] = await reportsOf(dev.userId);
    expect(sealed).toMatchObject({ value: 0, calls: 0, status: 'pending' });
    expect(next).toMatchObject({ value: res.body.cost.total, calls: 1, status: 'open' });
    expect(next!.window_start.getTime() - sealed!.window_start.getTime()).toBe(hour);
  });

  it('reconciles a call started in one month and recorded in the next against the next', async () => {
    const dev = await newDeveloper(server);
    const res = await store(dev.apiKey);
    expect(res.status).toBe(200);
    // As if it had started a second before this month began: its usage went into this month's window.
    const monthStart = new Date(`${new Date().toISOString().slice(0, 7)}-01T00:00:00Z`);
    const lastMonth = new Date(monthStart.getTime() - 1000);
    await server.tdk.database.db
      .updateTable('call')
      .set({ created_at: sql<never>`${lastMonth.toISOString()}::timestamptz` })
      .where('id', '=', res.body.id)
      .execute();
    const admin = await adminSession(server);
    for (const period of [lastMonth, monthStart].map((d) => d.toISOString().slice(0, 7))) {
      const report = await api('GET', `/api/tdk/admin/reconciliation?period=${period}`, { token: admin });
      expect(report.status).toBe(200);
      const own = report.body.usage.differences.filter((d: { user_id: string }) => d.user_id === dev.userId);
      expect(own, period).toEqual([]);
    }
  });

  it('records nothing of a paid call it cannot bill, and recovery settles it from the chain', async () => {
    const dev = await newDeveloper(server);
    await seal(dev.userId, 0);
    await seal(dev.userId, 1);
    const res = await store(dev.apiKey);
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('internal_error');

    // The payment landed, but the statement that records it wrote nothing at all.
    const { db } = server.tdk.database;
    const call = await db
      .selectFrom('call')
      .select(['id', 'status', 'tx_signature'])
      .where('user_id', '=', dev.userId)
      .executeTakeFirstOrThrow();
    expect(call).toMatchObject({ status: 'running', tx_signature: null });
    const intent = await db
      .selectFrom('chain_intent')
      .select(['movement_id', 'status'])
      .where('call_id', '=', call.id)
      .executeTakeFirstOrThrow();
    expect(intent.status).toBe('pending');
    const movements = await db
      .selectFrom('ledger_movement')
      .select('id')
      .where('id', '=', intent.movement_id)
      .execute();
    expect(movements).toEqual([]);
    expect((await reportsOf(dev.userId)).map((r) => [r.value, r.calls])).toEqual([
      [0, 0],
      [0, 0],
    ]);

    // Recovery books the payment from the chain; the call fails as interrupted, not billed: it
    // still counts against the day's calls, and of its reserved spend (1,500) only what the agent
    // was not paid goes back to the month.
    const usagePeriods = () =>
      db
        .selectFrom('key_usage_period')
        .innerJoin('api_key', 'api_key.id', 'key_usage_period.api_key_id')
        .select(['period', 'calls', 'spend'])
        .where('api_key.user_id', '=', dev.userId)
        .orderBy('period')
        .execute();
    const reserved = await usagePeriods();
    expect(reserved.map((p) => [p.calls, Number(p.spend)])).toEqual([
      [1, 0],
      [0, 1500],
    ]);
    await recoverCalls(server.tdk.services, 0);
    await recoverCalls(server.tdk.services, 0);
    expect((await usagePeriods()).map((p) => [p.calls, Number(p.spend)])).toEqual([
      [1, 0],
      [0, 1000],
    ]);
    expect(
      await db.selectFrom('call').select('status').where('id', '=', call.id).executeTakeFirstOrThrow(),
    ).toEqual({ status: 'failed' });
    expect(
      await db
        .selectFrom('ledger_movement')
        .select('chain_signature')
        .where('id', '=', intent.movement_id)
        .execute(),
    ).toHaveLength(1);
    const report = await api('GET', '/api/tdk/admin/reconciliation', { token: await adminSession(server) });
    expect(report.body.differences).toEqual([]);
  });

  /** A paid call left `running`, its payment in doubt: both usage windows sealed, its record failed. */
  const stuckCall = async () => {
    const dev = await newDeveloper(server);
    await seal(dev.userId, 0);
    await seal(dev.userId, 1);
    expect((await store(dev.apiKey)).status).toBe(500);
    const { db } = server.tdk.database;
    const call = await db
      .selectFrom('call')
      .select(['id', 'agent_id'])
      .where('user_id', '=', dev.userId)
      .executeTakeFirstOrThrow();
    const statusOf = async () =>
      (await db.selectFrom('call').select('status').where('id', '=', call.id).executeTakeFirstOrThrow())
        .status;
    return { db, call, statusOf };
  };

  it("does not count a running call as stuck before its agent's own, longer timeout has passed", async () => {
    const { db, call, statusOf } = await stuckCall();
    // As if the call's last steps (its events, its payment) were `seconds` ago.
    const age = async (seconds: number) => {
      const ago = sql<never>`now() - make_interval(secs => ${seconds})`;
      await db.updateTable('call_event').set({ at: ago }).where('call_id', '=', call.id).execute();
      await db.updateTable('chain_intent').set({ created_at: ago }).where('call_id', '=', call.id).execute();
    };
    // The memory agent is `simple` (20 s by default); registered with 10 minutes of its own, a live
    // process may still be waiting on it 580 s after the delay that covers the default.
    const agent = db.updateTable('agent').where('id', '=', call.agent_id);
    await agent.set({ timeout_ms: 600_000 }).execute();
    try {
      await recoverCalls(server.tdk.services, 0);
      expect(await statusOf()).toBe('running');
      await age(570);
      await recoverCalls(server.tdk.services, 0);
      expect(await statusOf()).toBe('running');
      await age(590);
      await recoverCalls(server.tdk.services, 0);
      expect(await statusOf()).toBe('failed');
    } finally {
      await agent.set({ timeout_ms: null }).execute();
    }
  });

  it('does not count a running call as stuck while its latest payment is recent', async () => {
    const { db, call, statusOf } = await stuckCall();
    const agedBy = (seconds: number) => sql<never>`now() - make_interval(secs => ${seconds})`;
    // Started long ago, but its payment was signed just now: a run that refilled the wallet first.
    await db
      .updateTable('call_event')
      .set({ at: agedBy(400) })
      .where('call_id', '=', call.id)
      .execute();
    await recoverCalls(server.tdk.services, 300_000);
    expect(await statusOf()).toBe('running');
    await db
      .updateTable('chain_intent')
      .set({ created_at: agedBy(400) })
      .where('call_id', '=', call.id)
      .execute();
    await recoverCalls(server.tdk.services, 300_000);
    expect(await statusOf()).toBe('failed');
  });
});
