import { BillingSignatureError } from '@tdk/core';
import { type StripeStandIn, signWebhookPayload, startStripeStandIn } from '@tdk/stripe-standin';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeBilling, meterEventName } from './stripe-billing';

describe('the Stripe billing adapter', () => {
  let stripe: StripeStandIn;
  let billing: ReturnType<typeof createStripeBilling>;
  beforeAll(async () => {
    stripe = await startStripeStandIn();
    billing = createStripeBilling({ secretKey: 'sk_test_x', webhookSecret: 'whsec_x', apiUrl: stripe.url });
  });
  afterAll(() => stripe?.close());

  it('creates one customer with one metered subscription per account, however often asked', async () => {
    const account = { userId: 'usr_a', email: 'a@example.com', tier: 'free' as const };
    const [first, second] = await Promise.all([
      billing.ensureCustomer(account),
      billing.ensureCustomer(account),
    ]);
    expect(second).toEqual(first);
    expect(await billing.ensureCustomer(account)).toEqual(first);
    expect(stripe.customers().filter((c) => c.metadata.tdk_user_id === 'usr_a')).toHaveLength(1);
    expect(stripe.subscriptions().filter((s) => s.customer === first.customerId)).toHaveLength(1);

    await billing.updateTier(first, 'pro');
    expect(stripe.customers().find((c) => c.id === first.customerId)?.metadata.tier).toBe('pro');
  });

  it('subscribes a customer again after its subscription ended: one new subscription, however often asked', async () => {
    const account = { userId: 'usr_c', email: 'c@example.com', tier: 'paid' as const };
    const { customerId, subscriptionId } = await billing.ensureCustomer(account);
    await new Stripe('sk_test_x', stripe.clientOptions).subscriptions.cancel(subscriptionId);
    const again = { ...account, customerId, replacing: subscriptionId };
    const [first, second] = await Promise.all([billing.resubscribe(again), billing.resubscribe(again)]);
    expect(second).toEqual(first);
    expect(await billing.resubscribe(again)).toEqual(first);
    expect(first).toMatchObject({ status: 'active', created: expect.any(Date) });
    expect(first.id).not.toBe(subscriptionId);
    expect(
      stripe
        .subscriptions()
        .filter((s) => s.customer === customerId)
        .map((s) => s.status),
    ).toEqual(['canceled', 'active']);
  });

  it('counts a meter event once, even when sent twice, and sums it for reconciliation', async () => {
    const { customerId } = await billing.ensureCustomer({
      userId: 'usr_b',
      email: 'b@example.com',
      tier: 'paid',
    });
    const event = { customerId, identifier: 'mtr_once', value: 1500n, timestamp: new Date() };
    expect(await billing.reportUsage(event)).toBe('accepted');
    // Replayed by its idempotency key within 24 h, refused as a known identifier after: counted once either way.
    expect(['accepted', 'duplicate']).toContain(await billing.reportUsage(event));
    expect(await billing.reportUsage({ ...event, identifier: 'mtr_twice', value: 3000n })).toBe('accepted');
    expect(stripe.meterTotals(meterEventName).get(customerId)).toBe(4500);
    const hour = 3_600_000;
    expect(
      await billing.usageTotal(customerId, new Date(Date.now() - hour), new Date(Date.now() + hour)),
    ).toBe(4500n);
  });

  it('verifies webhook signatures over the raw body', () => {
    const { payload } = stripe.event('invoice.paid', stripe.invoice({ customer: 'cus_x', status: 'paid' }));
    expect(billing.parseWebhook(payload, signWebhookPayload(payload, 'whsec_x')).type).toBe('invoice.paid');
    expect(() => billing.parseWebhook(payload, signWebhookPayload(payload, 'whsec_other'))).toThrow(
      BillingSignatureError,
    );
    expect(() => billing.parseWebhook(`${payload} `, signWebhookPayload(payload, 'whsec_x'))).toThrow(
      BillingSignatureError,
    );
    expect(() => billing.parseWebhook(payload, undefined)).toThrow(BillingSignatureError);
  });
});
