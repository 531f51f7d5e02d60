import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StripeStandIn, startStripeStandIn } from './standin';
import { API_VERSION, signWebhookPayload } from './webhooks';

const secret = 'whsec_standin';

describe('webhooks', () => {
  let standIn: StripeStandIn;
  beforeEach(async () => {
    standIn = await startStripeStandIn();
  });
  afterEach(() => standIn.close());

  it('signs an event so that the SDK verifies it, and refuses a wrong secret or an old signature', () => {
    const stripe = new Stripe('sk_test_standin', standIn.clientOptions);
    const invoice = standIn.invoice({ customer: 'cus_1', subscription: 'sub_1', amount_due: 1234 });
    const { id, payload } = standIn.event('invoice.paid', invoice);

    const event = stripe.webhooks.constructEvent(payload, signWebhookPayload(payload, secret), secret);
    expect(event).toMatchObject({
      id,
      object: 'event',
      type: 'invoice.paid',
      livemode: false,
      api_version: API_VERSION,
    });
    expect(event.data.object).toMatchObject({
      object: 'invoice',
      customer: 'cus_1',
      status: 'paid',
      amount_due: 1234,
      amount_paid: 1234,
      parent: { subscription_details: { subscription: 'sub_1' } },
    });

    const wrong = signWebhookPayload(payload, 'whsec_wrong');
    expect(() => stripe.webhooks.constructEvent(payload, wrong, secret)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    const old = signWebhookPayload(payload, secret, Math.floor(Date.now() / 1000) - 600);
    expect(() => stripe.webhooks.constructEvent(payload, old, secret)).toThrow(/tolerance/);
  });

  it('stamps events with the API version of the SDK it is checked against', () => {
    expect(API_VERSION).toBe(Stripe.API_VERSION);
  });

  it('serves the invoices it built', async () => {
    const stripe = new Stripe('sk_test_standin', { ...standIn.clientOptions, maxNetworkRetries: 0 });
    const customer = await stripe.customers.create({ email: 'ada@example.com' });
    const invoice = standIn.invoice({ customer: customer.id, status: 'open', amount_due: 500 });
    expect(invoice).toMatchObject({ customer_email: 'ada@example.com', amount_remaining: 500, parent: null });
    await expect(stripe.invoices.retrieve(String(invoice.id))).resolves.toMatchObject({
      id: invoice.id,
      status: 'open',
    });
  });
});
