import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DUPLICATE_METER_EVENT_CODE } from './api';
import { type StripeStandIn, startStripeStandIn } from './standin';

const minute = (seconds: number) => Math.floor(seconds / 60) * 60;
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('the Stripe stand-in, driven by the stripe SDK', () => {
  let standIn: StripeStandIn;
  const client = (maxNetworkRetries = 0) =>
    new Stripe('sk_test_standin', { ...standIn.clientOptions, maxNetworkRetries });

  beforeEach(async () => {
    standIn = await startStripeStandIn();
  });
  afterEach(() => standIn.close());

  /** A meter, a metered price on it, and a customer: what usage billing needs. */
  async function meteredPlan(stripe: Stripe) {
    const meter = await stripe.billing.meters.create({
      display_name: 'API calls',
      event_name: 'api_call',
      default_aggregation: { formula: 'sum' },
    });
    const price = await stripe.prices.create({
      currency: 'usd',
      product_data: { name: 'API' },
      recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
      unit_amount_decimal: Stripe.Decimal.from('0.5'),
      lookup_key: 'api_metered',
    });
    const customer = await stripe.customers.create({ email: 'ada@example.com', metadata: { user: 'usr_1' } });
    return { meter, price, customer };
  }

  it('creates a meter, a metered price, a customer and a subscription, and finds them again', async () => {
    const stripe = client();
    const { meter, price, customer } = await meteredPlan(stripe);
    expect(meter).toMatchObject({
      object: 'billing.meter',
      status: 'active',
      customer_mapping: { event_payload_key: 'stripe_customer_id', type: 'by_id' },
      value_settings: { event_payload_key: 'value' },
    });
    expect(meter.id).toMatch(/^mtr_/);
    expect(price).toMatchObject({
      object: 'price',
      type: 'recurring',
      lookup_key: 'api_metered',
      unit_amount: null,
    });
    expect(price.recurring).toMatchObject({ meter: meter.id, usage_type: 'metered', interval: 'month' });
    expect(String(price.unit_amount_decimal)).toBe('0.5');
    expect(price.product).toMatch(/^prod_/);
    expect(customer.id).toMatch(/^cus_/);

    const found = await stripe.prices.list({ lookup_keys: ['api_metered'], active: true });
    expect(found).toMatchObject({ object: 'list', has_more: false, url: '/v1/prices' });
    expect(found.data.map((p) => p.id)).toEqual([price.id]);
    expect((await stripe.billing.meters.list({ status: 'active' })).data.map((m) => m.id)).toEqual([
      meter.id,
    ]);
    expect((await stripe.customers.list({ email: 'ada@example.com' })).data.map((c) => c.id)).toEqual([
      customer.id,
    ]);

    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      metadata: { user: 'usr_1' },
    });
    expect(subscription).toMatchObject({ object: 'subscription', status: 'active', customer: customer.id });
    expect(subscription.items.data[0]?.price.id).toBe(price.id);
    expect(subscription.items.data[0]?.quantity).toBeUndefined();

    await stripe.subscriptions.update(subscription.id, { metadata: { plan: 'pro' } });
    // An empty value removes a metadata key.
    const updated = await stripe.customers.update(customer.id, { metadata: { user: '', tier: 'pro' } });
    expect(updated.metadata).toEqual({ tier: 'pro' });
    expect(standIn.customers()[0]?.metadata).toEqual({ tier: 'pro' });
    expect((await stripe.subscriptions.retrieve(subscription.id)).metadata).toEqual({
      user: 'usr_1',
      plan: 'pro',
    });
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toHaveLength(1);

    await expect(stripe.subscriptions.cancel(subscription.id)).resolves.toMatchObject({ status: 'canceled' });
    // Like Stripe: listing leaves canceled subscriptions out unless asked for them.
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toHaveLength(0);
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toHaveLength(1);
    expect(standIn.subscriptions()).toMatchObject([{ id: subscription.id, status: 'canceled' }]);
  });

  it('moves a lookup key only when asked to transfer it', async () => {
    const stripe = client();
    const { price } = await meteredPlan(stripe);
    const again = {
      currency: 'usd',
      product: price.product as string,
      unit_amount: 100,
      lookup_key: 'api_metered',
    };
    await expect(stripe.prices.create(again)).rejects.toMatchObject({ statusCode: 400, param: 'lookup_key' });
    const moved = await stripe.prices.create({ ...again, transfer_lookup_key: true });
    expect((await stripe.prices.list({ lookup_keys: ['api_metered'] })).data.map((p) => p.id)).toEqual([
      moved.id,
    ]);
  });

  it('sums meter events per customer, in meterTotals and in event summaries', async () => {
    const stripe = client();
    const { meter, customer } = await meteredPlan(stripe);
    const other = await stripe.customers.create({ email: 'bob@example.com' });
    const send = (who: string, value: string, timestamp?: number) =>
      stripe.billing.meterEvents.create({
        event_name: 'api_call',
        payload: { stripe_customer_id: who, value },
        timestamp,
      });
    const hour = Math.floor(nowSeconds() / 3600) * 3600;
    await send(customer.id, '3', hour - 3600 + 10);
    await send(customer.id, '4', hour);
    await send(other.id, '1.5');

    expect(standIn.meterTotals('api_call')).toEqual(
      new Map([
        [customer.id, 7],
        [other.id, 1.5],
      ]),
    );
    expect(standIn.meterEvents().map((e) => e.value)).toEqual([3, 4, 1.5]);

    const summaries = await stripe.billing.meters.listEventSummaries(meter.id, {
      customer: customer.id,
      start_time: hour - 3600,
      end_time: minute(nowSeconds()) + 60,
    });
    expect(summaries.data).toMatchObject([
      { object: 'billing.meter_event_summary', aggregated_value: 7, meter: meter.id },
    ]);

    const hourly = await stripe.billing.meters.listEventSummaries(meter.id, {
      customer: customer.id,
      start_time: hour - 3600,
      end_time: hour + 3600,
      value_grouping_window: 'hour',
    });
    expect(hourly.data.map((s) => [s.start_time, s.aggregated_value])).toEqual([
      [hour, 4],
      [hour - 3600, 3],
    ]);
  });

  it('refuses a meter event whose identifier was already used, and does not count it', async () => {
    const stripe = client();
    const { customer } = await meteredPlan(stripe);
    const event = {
      event_name: 'api_call',
      identifier: 'call_1',
      payload: { stripe_customer_id: customer.id, value: '5' },
    };
    await expect(stripe.billing.meterEvents.create(event)).resolves.toMatchObject({
      object: 'billing.meter_event',
      identifier: 'call_1',
    });
    await expect(stripe.billing.meterEvents.create(event)).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: DUPLICATE_METER_EVENT_CODE,
      param: 'identifier',
    });
    expect(standIn.meterTotals('api_call').get(customer.id)).toBe(5);
    expect(standIn.meterEvents()).toHaveLength(1);
  });

  it('refuses meter events that Stripe would not bill', async () => {
    const stripe = client();
    const { customer } = await meteredPlan(stripe);
    const now = nowSeconds();
    const refused: Array<[string, Stripe.Billing.MeterEventCreateParams]> = [
      ['no_meter', { event_name: 'nope', payload: { stripe_customer_id: customer.id, value: '1' } }],
      ['meter_event_no_customer_defined', { event_name: 'api_call', payload: { value: '1' } }],
      [
        'meter_event_customer_not_found',
        { event_name: 'api_call', payload: { stripe_customer_id: 'cus_x', value: '1' } },
      ],
      [
        'meter_event_invalid_value',
        { event_name: 'api_call', payload: { stripe_customer_id: customer.id, value: 'x' } },
      ],
      [
        'timestamp_too_far_in_past',
        {
          event_name: 'api_call',
          payload: { stripe_customer_id: customer.id, value: '1' },
          timestamp: now - 36 * 86400,
        },
      ],
      [
        'timestamp_in_future',
        {
          event_name: 'api_call',
          payload: { stripe_customer_id: customer.id, value: '1' },
          timestamp: now + 600,
        },
      ],
    ];
    for (const [code, params] of refused) {
      await expect(stripe.billing.meterEvents.create(params)).rejects.toMatchObject({
        statusCode: 400,
        code,
      });
    }
    expect(standIn.meterEvents()).toEqual([]);
  });

  it('replays a POST sent again with the same idempotency key, and refuses the key with other params', async () => {
    const stripe = client();
    const first = await stripe.customers.create({ email: 'ada@example.com' }, { idempotencyKey: 'signup-1' });
    const again = await stripe.customers.create({ email: 'ada@example.com' }, { idempotencyKey: 'signup-1' });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(again.lastResponse.headers['original-request']).toBe(first.lastResponse.requestId);
    expect(standIn.customers()).toHaveLength(1);

    await expect(
      stripe.customers.create({ email: 'bob@example.com' }, { idempotencyKey: 'signup-1' }),
    ).rejects.toMatchObject({
      type: 'StripeIdempotencyError',
      rawType: 'idempotency_error',
      statusCode: 400,
    });
  });

  it('answers a meter event replayed under its idempotency key without counting it twice', async () => {
    const stripe = client();
    const { customer } = await meteredPlan(stripe);
    const event = {
      event_name: 'api_call',
      identifier: 'call_1',
      payload: { stripe_customer_id: customer.id, value: '2' },
    };
    await stripe.billing.meterEvents.create(event, { idempotencyKey: 'usage-1' });
    await expect(
      stripe.billing.meterEvents.create(event, { idempotencyKey: 'usage-1' }),
    ).resolves.toMatchObject({
      identifier: 'call_1',
    });
    expect(standIn.meterTotals('api_call').get(customer.id)).toBe(2);
  });

  it('fails requests on demand, as the SDK reports Stripe failures', async () => {
    const stripe = client();
    standIn.failNext(1);
    await expect(stripe.customers.create({ email: 'ada@example.com' })).rejects.toBeInstanceOf(
      Stripe.errors.StripeAPIError,
    );
    standIn.failNext(1, { status: 429 });
    await expect(stripe.customers.create({ email: 'ada@example.com' })).rejects.toMatchObject({
      type: 'StripeRateLimitError',
      code: 'rate_limit',
      statusCode: 429,
    });
    expect(standIn.customers()).toEqual([]);
    await expect(stripe.customers.create({ email: 'ada@example.com' })).resolves.toMatchObject({
      object: 'customer',
    });
  });

  it("lets the SDK's own retries recover from a failed request, counting the usage once", async () => {
    const stripe = client(2);
    const { customer } = await meteredPlan(stripe);
    standIn.failNext(1, { pathPrefix: '/v1/billing/meter_events' });
    await stripe.billing.meterEvents.create({
      event_name: 'api_call',
      payload: { stripe_customer_id: customer.id, value: '5' },
    });
    const sent = standIn.requests().filter((r) => r.path === '/v1/billing/meter_events');
    expect(sent.map((r) => r.status)).toEqual([500, 200]);
    // The SDK keys every POST, and retries under the same key.
    expect(sent[0]?.idempotencyKey).toMatch(/^stripe-node-retry-/);
    expect(sent[1]?.idempotencyKey).toBe(sent[0]?.idempotencyKey);
    expect(standIn.meterTotals('api_call').get(customer.id)).toBe(5);
  });

  it('keeps failing under an outage until recovered, only under its path prefix', async () => {
    const stripe = client();
    const { customer } = await meteredPlan(stripe);
    const event = { event_name: 'api_call', payload: { stripe_customer_id: customer.id, value: '1' } };
    standIn.outage({ status: 503, pathPrefix: '/v1/billing/meter_events' });
    await expect(stripe.billing.meterEvents.create(event)).rejects.toMatchObject({ statusCode: 503 });
    await expect(stripe.billing.meterEvents.create(event)).rejects.toMatchObject({ statusCode: 503 });
    await expect(stripe.customers.retrieve(customer.id)).resolves.toMatchObject({ id: customer.id });
    standIn.recover();
    await expect(stripe.billing.meterEvents.create(event)).resolves.toMatchObject({ event_name: 'api_call' });
    expect(standIn.meterEvents()).toHaveLength(1);
  });

  it('loses answers after handling the request, and forgets identifiers once a day has passed', async () => {
    const stripe = client();
    const { customer } = await meteredPlan(stripe);
    const event = {
      event_name: 'api_call',
      identifier: 'usage-1',
      payload: { stripe_customer_id: customer.id, value: '3' },
    };
    standIn.failNext(1, { pathPrefix: '/v1/billing/meter_events', afterHandling: true });
    await expect(stripe.billing.meterEvents.create(event)).rejects.toMatchObject({ statusCode: 500 });
    expect(standIn.meterTotals('api_call').get(customer.id)).toBe(3);
    await expect(stripe.billing.meterEvents.create(event)).rejects.toMatchObject({
      code: DUPLICATE_METER_EVENT_CODE,
    });

    standIn.elapse(24 * 60 * 60 * 1000);
    await stripe.billing.meterEvents.create(event);
    expect(standIn.meterTotals('api_call').get(customer.id)).toBe(6);
  });

  it('pages lists as Stripe does', async () => {
    const stripe = client();
    for (const name of ['a', 'b', 'c']) await stripe.customers.create({ name });
    const first = await stripe.customers.list({ limit: 2 });
    expect(first.data.map((c) => c.name)).toEqual(['c', 'b']);
    expect(first.has_more).toBe(true);
    const all = await stripe.customers.list({ limit: 2 }).autoPagingToArray({ limit: 10 });
    expect(all.map((c) => c.name)).toEqual(['c', 'b', 'a']);
  });

  it('answers an unknown id with a 404 and an unknown key with a 401', async () => {
    await expect(client().customers.retrieve('cus_missing')).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
    });
    const publishable = new Stripe('pk_test_standin', { ...standIn.clientOptions, maxNetworkRetries: 0 });
    await expect(publishable.customers.list()).rejects.toBeInstanceOf(
      Stripe.errors.StripeAuthenticationError,
    );
  });

  it('speaks the wire format to any client: `[]` lists, a Request-Id, JSON errors', async () => {
    const stripe = client();
    const { price } = await meteredPlan(stripe);
    const headers = { Authorization: 'Bearer sk_test_standin' };
    const response = await fetch(`${standIn.url}/v1/prices?lookup_keys[]=api_metered&lookup_keys[]=other`, {
      headers,
    });
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    expect(await response.json()).toMatchObject({ object: 'list', data: [{ id: price.id }] });

    const anonymous = await fetch(`${standIn.url}/v1/customers`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { type: 'invalid_request_error' } });

    const unknown = await fetch(`${standIn.url}/v1/charges`, { headers });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      error: { message: expect.stringContaining('Unrecognized request URL') },
    });
  });
});
