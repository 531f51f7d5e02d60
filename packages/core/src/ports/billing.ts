import type { TierName } from '../tiers';

/**
 * The billing port: Stripe metered billing, seen from TDK. Absent when billing is offline (no
 * Stripe key): usage is then recorded and kept pending until a key is configured.
 */
export interface BillingPort {
  /** The Stripe customer of an account, with its subscription to the metered price; created once. */
  ensureCustomer(account: { userId: string; email: string; tier: TierName }): Promise<BillingCustomer>;
  /** Writes the account's tier on its Stripe customer and subscription. */
  updateTier(customer: BillingCustomer, tier: TierName): Promise<void>;
  /**
   * Subscribes an existing customer to the metered price again, replacing a subscription that ended.
   * Asked again for the same ended subscription, it answers the same new one.
   */
  resubscribe(account: {
    userId: string;
    tier: TierName;
    customerId: string;
    replacing: string;
  }): Promise<BillingSubscription>;
  /**
   * Sends one meter event. Sending the same identifier again is harmless: Stripe counts it once
   * (the answer is then a replay, `accepted`, or `duplicate` once the idempotency key is gone).
   */
  reportUsage(event: MeterEvent): Promise<'accepted' | 'duplicate'>;
  /** What Stripe has summed for a customer over [start, end), for reconciliation. */
  usageTotal(customerId: string, start: Date, end: Date): Promise<bigint>;
  /** Verifies a webhook's signature over its raw body; throws `BillingSignatureError` when it fails. */
  parseWebhook(rawBody: string | Uint8Array, signature: string | undefined): BillingWebhookEvent;
}

export interface BillingCustomer {
  customerId: string;
  subscriptionId: string;
}

export interface BillingSubscription {
  id: string;
  /** Stripe's status, e.g. `active`. */
  status: string;
  /** When Stripe created it: no event about it is older. */
  created: Date;
}

export interface MeterEvent {
  customerId: string;
  /** Deterministic per report, at most 100 characters. */
  identifier: string;
  /** Developer cost in micro-dollars. */
  value: bigint;
  timestamp: Date;
}

/** A verified webhook event, in Stripe's shape (only the fields TDK reads). */
export interface BillingWebhookEvent {
  id: string;
  type: string;
  /** Seconds since the epoch, when Stripe created it: events arrive in no particular order. */
  created: number;
  data: { object: Record<string, unknown> };
}

export class BillingSignatureError extends Error {
  override readonly name = 'BillingSignatureError';
}

/**
 * Stripe refused a request outright (a 4xx other than a conflict): it recorded nothing, so sending
 * it again can never count twice. Any other failure (no answer, a 5xx) leaves the outcome unknown.
 */
export class BillingRefusedError extends Error {
  override readonly name = 'BillingRefusedError';
}
