import {
  AppError,
  assertStorableInput,
  BillingSignatureError,
  type BillingWebhookEvent,
  subscriptionEnded,
} from '@tdk/core';
import type { Database } from '@tdk/db';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import { recordAudit } from '../audit/record';
import type { Services } from '../services';

/** `superseded`: an event older than the one that set what it would change (Stripe delivers out of order). */
export type WebhookOutcome = 'handled' | 'duplicate' | 'ignored' | 'superseded';

/** Who the audit log names for changes Stripe's webhooks make. */
const stripeActor = { type: 'system' } as const;

/**
 * A Stripe webhook: verified over its raw body, applied once per event id (the event is recorded in
 * the same transaction as its effects, so a redelivery finds it and changes nothing).
 */
export async function handleStripeWebhook(
  services: Services,
  request: {
    rawBody: Uint8Array;
    signature: string | undefined;
    ip: string | undefined;
    userAgent: string | undefined;
  },
): Promise<WebhookOutcome> {
  const billing = services.billing.port;
  if (!billing) {
    throw new AppError('service_unavailable', 'Stripe billing is not configured on this server.');
  }
  let event: BillingWebhookEvent;
  try {
    event = billing.parseWebhook(request.rawBody, request.signature);
  } catch (error) {
    if (!(error instanceof BillingSignatureError)) throw error;
    throw new AppError('invalid_signature', error.message);
  }
  // Signed, yet checked all the same: a malformed event is refused whole (400) rather than failing halfway.
  if (!ZEvent.safeParse(event).success) {
    throw new AppError('invalid_input', 'The event is not shaped like a Stripe event.');
  }
  assertStorableInput(event);
  const audit = { ip: request.ip, userAgent: request.userAgent };
  const effects: Effects = { subscriptionEnded: false };
  const outcome = await applyEvent(services, event, audit, effects);
  // The account's keys are refused from now on; whether to subscribe it again is an operator's
  // decision (`admin.users.resubscribe`), never TDK's by itself. Told once, when it ends.
  if (effects.subscriptionEnded) {
    await services.alerts.raise({
      kind: 'billing_subscription_canceled',
      subject: String(event.data.object.customer),
      severity: 'critical',
      message: `A Stripe subscription of customer ${String(event.data.object.customer)} ended (${statusOf(event)}): its keys cannot call agents until an admin subscribes the account again.`,
      details: { customer: event.data.object.customer, subscription: event.data.object.id },
    });
  }
  return outcome;
}

const isSubscriptionEvent = (type: string) =>
  type === 'customer.subscription.updated' || type === 'customer.subscription.deleted';

/** The subscription's status an event tells: a deleted one is canceled, whatever the object says. */
const statusOf = (event: BillingWebhookEvent) =>
  event.type === 'customer.subscription.deleted' ? 'canceled' : String(event.data.object.status);

/** What an applied event did that is told outside its transaction, once it has committed. */
interface Effects {
  subscriptionEnded: boolean;
}

function applyEvent(
  services: Services,
  event: BillingWebhookEvent,
  audit: { ip: string | undefined; userAgent: string | undefined },
  effects: Effects,
): Promise<WebhookOutcome> {
  return services.db.transaction().execute(async (trx) => {
    const fresh = await trx
      .insertInto('stripe_event')
      .values({ id: event.id, type: event.type })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!fresh) return 'duplicate';
    const object = event.data.object;
    const at = new Date(event.created * 1000);
    if (event.type.startsWith('invoice.')) return applyInvoice(trx, event.type, at, object, audit);
    if (isSubscriptionEvent(event.type)) {
      return applySubscription(trx, statusOf(event), at, object, audit, effects);
    }
    return 'ignored';
  });
}

/**
 * The status of the account's current subscription; an ended one stops its keys calling agents. An
 * event about another subscription (one an admin has replaced since) changes nothing.
 */
async function applySubscription(
  trx: Transaction<Database>,
  status: string,
  at: Date,
  subscription: Record<string, unknown>,
  audit: { ip: string | undefined; userAgent: string | undefined },
  effects: Effects,
): Promise<WebhookOutcome> {
  const account = await trx
    .selectFrom('billing_account')
    .select(['user_id', 'subscription_status', 'subscription_status_at'])
    .where('stripe_customer_id', '=', String(subscription.customer))
    .where('stripe_subscription_id', '=', String(subscription.id))
    .forUpdate()
    .executeTakeFirst();
  if (!account) return 'ignored';
  if (account.subscription_status_at !== null && account.subscription_status_at > at) return 'superseded';
  await trx
    .updateTable('billing_account')
    .set({ subscription_status: status, subscription_status_at: at, updated_at: new Date() })
    .where('user_id', '=', account.user_id)
    .execute();
  if (subscriptionEnded(status) && !subscriptionEnded(account.subscription_status)) {
    effects.subscriptionEnded = true;
    await recordAudit(trx, audit, {
      actor: stripeActor,
      action: 'billing.subscription_ended',
      target: { type: 'user', id: account.user_id },
      details: { source: 'stripe_webhook', subscription: String(subscription.id), status },
    });
  }
  return 'handled';
}

/** What TDK reads of an event, typed as Stripe sends it; an event otherwise shaped is refused whole. */
const ZEvent = z.object({
  id: z.string().min(1),
  type: z.string(),
  /** Seconds since the epoch: the order events happened in, whatever order they arrive in. */
  created: z.number().int().nonnegative(),
  data: z.object({
    object: z.looseObject({
      id: z.string().nullish(),
      customer: z.string().nullish(),
      status: z.string().nullish(),
      currency: z.string().nullish(),
      period_start: z.number().nullish(),
      created: z.number().nullish(),
      amount_due: z.number().nullish(),
    }),
  }),
});

const invoiceStatusOf: Record<string, string> = {
  'invoice.created': 'draft',
  'invoice.finalized': 'open',
  'invoice.paid': 'paid',
  'invoice.payment_failed': 'payment_failed',
};

/** An invoice's state on its billing period; a failed payment suspends the account's keys, payment lifts it. */
async function applyInvoice(
  trx: Transaction<Database>,
  type: string,
  at: Date,
  invoice: Record<string, unknown>,
  audit: { ip: string | undefined; userAgent: string | undefined },
): Promise<WebhookOutcome> {
  const status = invoiceStatusOf[type];
  if (!status) return 'ignored';
  const account = await trx
    .selectFrom('billing_account')
    .select(['user_id', 'payment_status', 'payment_status_at'])
    .where('stripe_customer_id', '=', String(invoice.customer))
    .forUpdate()
    .executeTakeFirst();
  if (!account) return 'ignored';
  const periodStart = new Date(Number(invoice.period_start ?? invoice.created) * 1000);
  const due = Math.trunc(Number(invoice.amount_due ?? 0));
  if (Number.isNaN(periodStart.getTime()) || !Number.isSafeInteger(due)) {
    throw new AppError('invalid_input', 'The invoice has no valid period or amount due.');
  }
  const period = periodStart.toISOString().slice(0, 7);
  const amountDue = BigInt(due);
  // Each part changes only for an event at least as new as the one that set it last.
  const periodWritten = await trx
    .insertInto('billing_period')
    .values({
      user_id: account.user_id,
      period,
      stripe_invoice_id: String(invoice.id),
      invoice_status: status,
      amount_due: amountDue,
      currency: String(invoice.currency ?? 'usd'),
      invoice_event_at: at,
    })
    .onConflict((oc) =>
      oc
        .columns(['user_id', 'period'])
        .doUpdateSet({
          stripe_invoice_id: String(invoice.id),
          invoice_status: status,
          amount_due: amountDue,
          invoice_event_at: at,
          updated_at: new Date(),
        })
        .where((eb) =>
          eb.or([
            eb('billing_period.invoice_event_at', 'is', null),
            eb('billing_period.invoice_event_at', '<=', at),
          ]),
        ),
    )
    .returning('user_id')
    .executeTakeFirst();

  // A payment or its failure decides the account's payment status, unless a newer one already did.
  if (status !== 'paid' && status !== 'payment_failed') return periodWritten ? 'handled' : 'superseded';
  if (account.payment_status_at !== null && account.payment_status_at > at) {
    return periodWritten ? 'handled' : 'superseded';
  }
  const paymentStatus = status === 'paid' ? 'ok' : 'past_due';
  await trx
    .updateTable('billing_account')
    .set({ payment_status: paymentStatus, payment_status_at: at, updated_at: new Date() })
    .where('user_id', '=', account.user_id)
    .execute();
  if (paymentStatus !== account.payment_status) {
    await recordAudit(trx, audit, {
      actor: stripeActor,
      action: paymentStatus === 'past_due' ? 'billing.keys_suspended' : 'billing.keys_restored',
      target: { type: 'user', id: account.user_id },
      details: { source: 'stripe_webhook', invoice: String(invoice.id), period },
    });
  }
  return 'handled';
}
