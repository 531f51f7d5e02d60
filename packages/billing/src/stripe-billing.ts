import {
  type BillingCustomer,
  type BillingPort,
  BillingRefusedError,
  BillingSignatureError,
  type BillingWebhookEvent,
  type MeterEvent,
  type TierName,
} from '@tdk/core';
import Stripe from 'stripe';

/** The Billing Meter every call is reported on: value = developer cost in micro-dollars, summed. */
export const meterEventName = 'tdk_api_call';
/** The metered price on that meter, found again by this lookup key on every start. */
export const usagePriceLookupKey = 'tdk_api_call_usage';
/** One micro-dollar in cents: what one unit of the meter costs. */
const centsPerMicroDollar = '0.0001';

export interface StripeBillingOptions {
  secretKey: string;
  webhookSecret: string | undefined;
  /** Another API host, e.g. a local stand-in in tests: `http://127.0.0.1:12111`. */
  apiUrl?: string | undefined;
  /** Retries of the SDK itself (network errors, 409/429/5xx), with Stripe's idempotency keys. */
  maxNetworkRetries?: number;
  timeoutMs?: number;
}

/** The billing port on Stripe's API, through the official SDK. */
export function createStripeBilling(options: StripeBillingOptions): BillingPort {
  const stripe = new Stripe(options.secretKey, {
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    timeout: options.timeoutMs ?? 20_000,
    appInfo: { name: 'TDK' },
    ...(options.apiUrl ? hostOf(options.apiUrl) : {}),
  });

  // The meter and its price are set up once per process, on first use, and found again by name.
  let setup: Promise<{ meterId: string; priceId: string }> | undefined;
  const meterAndPrice = () => {
    setup ??= ensureMeterAndPrice(stripe).catch((error: unknown) => {
      setup = undefined;
      throw error;
    });
    return setup;
  };

  return {
    async ensureCustomer({ userId, email, tier }) {
      const { priceId } = await meterAndPrice();
      // Found by the account id first, so a lost answer never makes a second customer.
      const existing = await stripe.customers.list({ email, limit: 100 });
      const customer =
        existing.data.find((c) => c.metadata?.tdk_user_id === userId) ??
        (await stripe.customers.create(
          { email, metadata: { tdk_user_id: userId, tier } },
          { idempotencyKey: `tdk-customer-${userId}` },
        ));
      const subscriptions = await stripe.subscriptions.list({ customer: customer.id, status: 'active' });
      const subscription =
        subscriptions.data[0] ??
        (await stripe.subscriptions.create(
          { customer: customer.id, items: [{ price: priceId }], metadata: { tdk_user_id: userId, tier } },
          { idempotencyKey: `tdk-subscription-${customer.id}` },
        ));
      return { customerId: customer.id, subscriptionId: subscription.id };
    },

    async updateTier(customer: BillingCustomer, tier: TierName) {
      await stripe.customers.update(customer.customerId, { metadata: { tier } });
      await stripe.subscriptions.update(customer.subscriptionId, { metadata: { tier } });
    },

    async resubscribe({ userId, tier, customerId, replacing }) {
      const { priceId } = await meterAndPrice();
      // Found first, as in ensureCustomer: an attempt whose answer was lost made it already.
      const active = await stripe.subscriptions.list({ customer: customerId, status: 'active' });
      const subscription =
        active.data[0] ??
        (await stripe.subscriptions.create(
          { customer: customerId, items: [{ price: priceId }], metadata: { tdk_user_id: userId, tier } },
          // Not ensureCustomer's key: within Stripe's 24 h that would replay the subscription that ended.
          { idempotencyKey: `tdk-subscription-${customerId}-after-${replacing}` },
        ));
      return {
        id: subscription.id,
        status: subscription.status,
        created: new Date(subscription.created * 1000),
      };
    },

    async reportUsage(event: MeterEvent) {
      try {
        await stripe.billing.meterEvents.create(
          {
            event_name: meterEventName,
            identifier: event.identifier,
            timestamp: Math.floor(event.timestamp.getTime() / 1000),
            payload: { stripe_customer_id: event.customerId, value: event.value.toString() },
          },
          // One attempt: delivery retries with backoff, and a refusal then tells that nothing was counted
          // (after the SDK's own retry, a 4xx could follow a first try Stripe counted).
          { idempotencyKey: event.identifier, maxNetworkRetries: 0 },
        );
        return 'accepted';
      } catch (error) {
        if (isDuplicateIdentifier(error)) return 'duplicate';
        if (isRefusal(error)) throw new BillingRefusedError(error.message);
        throw error;
      }
    },

    async usageTotal(customerId, start, end) {
      const { meterId } = await meterAndPrice();
      let total = 0;
      for await (const summary of stripe.billing.meters.listEventSummaries(meterId, {
        customer: customerId,
        // Stripe takes whole minutes here.
        start_time: Math.floor(start.getTime() / 60_000) * 60,
        end_time: Math.ceil(end.getTime() / 60_000) * 60,
      })) {
        total += summary.aggregated_value;
      }
      return BigInt(Math.round(total));
    },

    parseWebhook(rawBody, signature) {
      if (!options.webhookSecret) throw new BillingSignatureError('No webhook secret is configured.');
      if (!signature) throw new BillingSignatureError('The Stripe-Signature header is missing.');
      const payload = typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody);
      try {
        return stripe.webhooks.constructEvent(
          payload,
          signature,
          options.webhookSecret,
        ) as unknown as BillingWebhookEvent;
      } catch (error) {
        throw new BillingSignatureError('The webhook signature does not verify.', { cause: error });
      }
    },
  };
}

async function ensureMeterAndPrice(stripe: Stripe): Promise<{ meterId: string; priceId: string }> {
  let meter: Stripe.Billing.Meter | undefined;
  for await (const candidate of stripe.billing.meters.list({ status: 'active' })) {
    if (candidate.event_name === meterEventName) {
      meter = candidate;
      break;
    }
  }
  meter ??= await stripe.billing.meters.create(
    {
      display_name: 'TDK API calls',
      event_name: meterEventName,
      default_aggregation: { formula: 'sum' },
      customer_mapping: { type: 'by_id', event_payload_key: 'stripe_customer_id' },
      value_settings: { event_payload_key: 'value' },
    },
    { idempotencyKey: `tdk-meter-${meterEventName}` },
  );
  const prices = await stripe.prices.list({ lookup_keys: [usagePriceLookupKey], active: true });
  const price =
    prices.data[0] ??
    (await stripe.prices.create(
      {
        currency: 'usd',
        product_data: { name: 'TDK API calls' },
        recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
        billing_scheme: 'per_unit',
        unit_amount_decimal: Stripe.Decimal.from(centsPerMicroDollar),
        lookup_key: usagePriceLookupKey,
      },
      { idempotencyKey: `tdk-price-${usagePriceLookupKey}-${meter.id}` },
    ));
  return { meterId: meter.id, priceId: price.id };
}

/** Stripe refuses a meter event whose identifier it has already counted: it is delivered. */
function isDuplicateIdentifier(error: unknown): boolean {
  return (
    error instanceof Stripe.errors.StripeInvalidRequestError &&
    (error.code === 'resource_already_exists' || /identifier/i.test(error.message))
  );
}

/**
 * A 4xx answer means Stripe did nothing with the request, except a 409: another request with the same
 * idempotency key is in flight, and it may yet be counted.
 */
function isRefusal(error: unknown): error is Stripe.errors.StripeError {
  return (
    error instanceof Stripe.errors.StripeError &&
    error.statusCode !== undefined &&
    error.statusCode >= 400 &&
    error.statusCode < 500 &&
    error.statusCode !== 409
  );
}

function hostOf(apiUrl: string): { host: string; port: number; protocol: 'http' | 'https' } {
  const url = new URL(apiUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: Number(url.port || (protocol === 'http' ? 80 : 443)), protocol };
}
