import { createHmac } from 'node:crypto';
import { stripeId } from './api';

/** The API version of the `stripe` SDK the stand-in is checked against (23.1.0), stamped on events. */
export const API_VERSION = '2026-10-28.endive';

/**
 * The `Stripe-Signature` header value for `payload`, signed as Stripe signs webhooks:
 * `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<payload>" keyed by the endpoint secret>`.
 * Sign with another secret, or an old `timestamp` (seconds), to test that verification refuses it.
 */
export function signWebhookPayload(
  payload: string,
  secret: string,
  timestamp = Math.floor(Date.now() / 1000),
): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

/** A Stripe event as a webhook delivers it: its id, and the JSON body (pretty-printed, like Stripe's). */
export function stripeEvent(
  type: string,
  object: Record<string, unknown>,
  { created = Math.floor(Date.now() / 1000) }: { created?: number } = {},
): { id: string; payload: string } {
  const id = stripeId('evt');
  const event = {
    id,
    object: 'event',
    api_version: API_VERSION,
    created,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
  return { id, payload: JSON.stringify(event, null, 2) };
}
