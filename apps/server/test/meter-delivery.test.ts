import { identifierWindowMs } from '@tdk/api';
import { testDatabaseKinds } from '@tdk/db/testing';
import { type StripeStandIn, startStripeStandIn } from '@tdk/stripe-standin';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { customerOf, makeCalls, stripeEnv } from './support/billing';
import { adminSession, newDeveloper } from './support/customers';
import { jsonClient } from './support/http';
import { until } from './support/processes';

const meterEvents = '/v1/billing/meter_events';
/** Past the time TDK trusts Stripe to still know an identifier, and past Stripe's own day. */
const aDayLater = Math.max(identifierWindowMs, 24 * 3600 * 1000) + 3600 * 1000;

/**
 * Stripe dedupes a meter event's identifier for about a day. A report whose send had an unknown
 * outcome (an answer lost, a 5xx) and that is still failing a day later must not be sent blind:
 * Stripe would count it again. These tests let a day pass on the stand-in's clock and on the report.
 */
describe.each(testDatabaseKinds)('usage reports past Stripe identifier window on %s', (kind) => {
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

  const reportOf = (userId: string) =>
    server.tdk.database.db
      .selectFrom('meter_report')
      .selectAll()
      .where('user_id', '=', userId)
      .executeTakeFirst();

  /** One paid call whose usage report then fails to reach Stripe, with an outcome Stripe leaves unknown. */
  async function unconfirmedReport(options: { answerLost: boolean }) {
    const dev = await newDeveloper(server);
    stripe.recover();
    stripe.outage({ pathPrefix: meterEvents, afterHandling: options.answerLost });
    const cost = await makeCalls(server, dev.apiKey, 1);
    const customer = await customerOf(server, dev.userId);
    await until('an attempt with an unknown outcome', async () =>
      Boolean((await reportOf(dev.userId))?.unconfirmed_since),
    );
    const report = (await reportOf(dev.userId))!;
    expect(report.status).toBe('pending');
    return { dev, cost, customer, report };
  }

  /**
   * A day passes for the report (caught between two attempts, and kept from the next one meanwhile)
   * and for Stripe, which is then reachable again.
   */
  async function aDayPasses(
    reportId: string,
    {
      meanwhile,
      asCrashLeftIt = false,
    }: {
      meanwhile?: () => Promise<void>;
      /** The worker died right after sending a day ago: no outcome recorded, its claim left behind. */
      asCrashLeftIt?: boolean;
    } = {},
  ) {
    const db = server.tdk.database.db;
    const dayBack = sql<Date>`now() - make_interval(secs => ${aDayLater / 1000})`;
    await until('the report between attempts, moved a day back', async () => {
      const moved = await db
        .updateTable('meter_report')
        .set({
          ...(asCrashLeftIt
            ? { unconfirmed_since: null, sending_since: dayBack }
            : { unconfirmed_since: dayBack }),
          next_attempt_at: sql`now() + interval '1 hour'`,
        })
        .where('id', '=', reportId)
        .where('sending_since', 'is', null)
        .executeTakeFirst();
      return moved.numUpdatedRows === 1n;
    });
    stripe.elapse(aDayLater);
    stripe.recover();
    await meanwhile?.();
    await db
      .updateTable('meter_report')
      .set({ next_attempt_at: sql`now()` })
      .where('id', '=', reportId)
      .execute();
  }

  const sends = (identifier: string) =>
    stripe.requests().filter((r) => r.path === meterEvents && r.idempotencyKey === identifier).length;

  /** A meter event for the customer in the report's minute that TDK did not send. */
  async function strayEvent(customer: string, at: Date, value: number) {
    await fetch(`${stripe.url}${meterEvents}`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_tdk', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        event_name: 'tdk_api_call',
        'payload[stripe_customer_id]': customer,
        'payload[value]': String(value),
        timestamp: String(Math.floor(at.getTime() / 1000)),
      }),
    });
  }

  const heldAlerts = (reportId: string) =>
    server.logs().filter((l) => {
      const alert = l.alert as { kind?: string; subject?: string } | undefined;
      return alert?.kind === 'billing_report_held' && alert.subject === reportId;
    });

  it('settles a report Stripe counted, though its answer was lost, from Stripe sums: not sent again', async () => {
    const { dev, cost, customer, report } = await unconfirmedReport({ answerLost: true });
    await aDayPasses(report.id);
    const sentBefore = sends(report.id);

    await until('the report delivered', async () => (await reportOf(dev.userId))?.status === 'delivered');
    expect(sends(report.id)).toBe(sentBefore);
    expect(stripe.meterTotals('tdk_api_call').get(customer)).toBe(cost);
    expect(await reportOf(dev.userId)).toMatchObject({ unconfirmed_since: null, sending_since: null });
  });

  it('settles a report whose sender crashed mid-send a day ago from Stripe sums, not sent again', async () => {
    const { dev, cost, customer, report } = await unconfirmedReport({ answerLost: true });
    await aDayPasses(report.id, { asCrashLeftIt: true });
    const sentBefore = sends(report.id);

    await until('the report delivered', async () => (await reportOf(dev.userId))?.status === 'delivered');
    expect(sends(report.id)).toBe(sentBefore);
    expect(stripe.meterTotals('tdk_api_call').get(customer)).toBe(cost);
  });

  it('sends a report Stripe never got, once, after a day of failures', async () => {
    const { dev, cost, customer, report } = await unconfirmedReport({ answerLost: false });
    expect(stripe.meterTotals('tdk_api_call').get(customer)).toBeUndefined();
    await aDayPasses(report.id);

    await until('the report delivered', async () => (await reportOf(dev.userId))?.status === 'delivered');
    expect(stripe.meterTotals('tdk_api_call').get(customer)).toBe(cost);
    expect(stripe.meterEvents().filter((e) => e.identifier === report.id)).toHaveLength(1);
  });

  it('keeps a send unconfirmed when Stripe counted it and lost the answer, though it refuses the next', async () => {
    const dev = await newDeveloper(server);
    stripe.recover();
    // Counted, answer lost; then a refusal, which says nothing of the first try.
    stripe.failNext(1, { pathPrefix: meterEvents, afterHandling: true });
    stripe.failNext(1, { pathPrefix: meterEvents, status: 429 });
    await makeCalls(server, dev.apiKey, 1);
    await until('the first attempt recorded', async () => Boolean((await reportOf(dev.userId))?.last_error));
    expect((await reportOf(dev.userId))?.unconfirmed_since).not.toBeNull();
    await until('the report delivered', async () => (await reportOf(dev.userId))?.status === 'delivered');
  });

  it('leaves nothing unconfirmed when Stripe refuses a send outright', async () => {
    const dev = await newDeveloper(server);
    stripe.failNext(1, { pathPrefix: meterEvents, status: 400 });
    const cost = await makeCalls(server, dev.apiKey, 1);
    const customer = await customerOf(server, dev.userId);
    await until('the refused attempt recorded', async () =>
      Boolean((await reportOf(dev.userId))?.last_error),
    );
    expect((await reportOf(dev.userId))?.unconfirmed_since).toBeNull();

    await until('the report delivered', async () => (await reportOf(dev.userId))?.status === 'delivered');
    expect(stripe.meterTotals('tdk_api_call').get(customer)).toBe(cost);
  });

  it("holds a report Stripe's sums cannot settle, alerts, and lets an admin resolve it either way", async () => {
    const admin = await adminSession(server);
    /** A report with an unknown outcome, whose minute at Stripe also holds an event TDK did not send. */
    const heldReport = async (answerLost: boolean, strayValue: number) => {
      const held = await unconfirmedReport({ answerLost });
      await aDayPasses(held.report.id, {
        meanwhile: () => strayEvent(held.customer, held.report.window_start, strayValue),
      });
      await until('the report held', async () => (await reportOf(held.dev.userId))?.status === 'held');
      expect(heldAlerts(held.report.id)).toHaveLength(1);
      return held;
    };
    const counted = await heldReport(true, 7);
    const missing = await heldReport(false, 5);

    const listed = await api('GET', '/api/tdk/admin/billing/reports?state=held', { token: admin });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((r: { id: string }) => r.id).sort()).toEqual(
      [counted.report.id, missing.report.id].sort(),
    );
    expect(listed.body.counts.held).toBe(2);

    const resolve = (id: string, outcome: string, token = admin) =>
      api('POST', `/api/tdk/admin/billing/reports/${id}/resolve`, { token, body: { outcome } });
    expect((await resolve(counted.report.id, 'counted', counted.dev.session)).status).toBe(403);

    const markedCounted = await resolve(counted.report.id, 'counted');
    expect(markedCounted.status, JSON.stringify(markedCounted.body)).toBe(200);
    expect(markedCounted.body).toEqual({ id: counted.report.id, state: 'delivered' });
    // On its customer, as a delivered report is, for reconciliation to ask Stripe about.
    expect((await reportOf(counted.dev.userId))?.stripe_customer_id).toBe(counted.customer);
    const again = await resolve(counted.report.id, 'not_counted');
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');

    const sendAgain = await resolve(missing.report.id, 'not_counted');
    expect(sendAgain.body).toEqual({ id: missing.report.id, state: 'pending' });
    await until(
      'the resolved report delivered',
      async () => (await reportOf(missing.dev.userId))?.status === 'delivered',
    );

    const totals = stripe.meterTotals('tdk_api_call');
    expect(totals.get(counted.customer)).toBe(counted.cost + 7);
    expect(totals.get(missing.customer)).toBe(missing.cost + 5);
    const audit = await api('GET', '/api/tdk/admin/audit?action=billing.report_resolved', { token: admin });
    expect(
      audit.body.items.map((e: { target_id: string; details: { outcome: string } }) => [
        e.target_id,
        e.details.outcome,
      ]),
    ).toEqual(
      expect.arrayContaining([
        [counted.report.id, 'counted'],
        [missing.report.id, 'not_counted'],
      ]),
    );
    expect((await resolve('mrp_nope', 'counted')).status).toBe(404);
  });
});
