import type { StripeStandIn } from '@tdk/stripe-standin';
import { expect } from 'vitest';
import type { TestServer } from '../../src/testing';
import { jsonClient } from './http';
import { until } from './processes';

export const webhookSecret = 'whsec_test_billing';

/** Stripe online against the stand-in, reporting every second so tests need not wait an hour. */
export const stripeEnv = (stripe: StripeStandIn) => ({
  STRIPE_SECRET_KEY: 'sk_test_tdk',
  STRIPE_WEBHOOK_SECRET: webhookSecret,
  STRIPE_API_URL: stripe.url,
  BILLING_REPORT_INTERVAL_SECONDS: '1',
  BILLING_DELIVERY_INTERVAL_SECONDS: '1',
  TDK_KEY_CACHE_MS: '0',
});

/** Makes `n` memory calls with the key and returns the sum of their developer costs. */
export async function makeCalls(server: TestServer, apiKey: string, n: number): Promise<number> {
  const api = jsonClient(server.url);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const res = await api('POST', '/api/tdk/v1/call', {
      token: apiKey,
      body: { agent_id: 'memory', input: { action: 'store', key: `k${i}`, value: `v${i}` } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    total += res.body.cost.total as number;
  }
  return total;
}

/** The account's Stripe customer id, once its background sync has created it. */
export async function customerOf(server: TestServer, userId: string): Promise<string> {
  let customer: string | null | undefined;
  await until('the Stripe customer', async () => {
    const row = await server.tdk.database.db
      .selectFrom('billing_account')
      .select('stripe_customer_id')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    customer = row?.stripe_customer_id;
    return Boolean(customer);
  });
  return customer as string;
}
