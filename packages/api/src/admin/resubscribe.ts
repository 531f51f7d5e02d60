import { AppError, subscriptionEnded } from '@tdk/core';
import { z } from 'zod';
import { recordAudit } from '../audit/record';
import { adminProcedure } from '../trpc';
import { subscriptionDto, ZSubscription } from './customers';

/**
 * Subscribes an account whose Stripe subscription ended to the metered price again, on its existing
 * customer, so its keys may call agents again. The subscription is created before the transaction
 * that records it (no transaction waits on Stripe); a retry gets the same one from Stripe.
 */
export const resubscribeUser = adminProcedure
  .meta({
    openapi: {
      method: 'POST',
      path: '/tdk/admin/users/{id}/resubscribe',
      tags: ['admin'],
      summary: 'Subscribe an account again after its subscription ended (admin)',
      description:
        "Audited. A new Stripe subscription to the metered price on the account's customer; its keys may call agents again at once. Only an ended (canceled or expired) subscription is replaced; a retry makes no second one.",
      errorResponses: {
        404: 'No such account',
        409: 'The account has no subscription that ended, or Stripe billing is not configured on this server (`conflict`)',
      },
    },
  })
  .input(z.strictObject({ id: z.string().max(64) }))
  .output(z.object({ user_id: z.string(), subscription: ZSubscription }))
  .mutation(async ({ ctx, input }) => {
    const { db } = ctx.services;
    const account = await db
      .selectFrom('app_user')
      .leftJoin('billing_account', 'billing_account.user_id', 'app_user.id')
      .select([
        'app_user.tier',
        'billing_account.stripe_customer_id',
        'billing_account.stripe_subscription_id',
        'billing_account.subscription_status',
      ])
      .where('app_user.id', '=', input.id)
      .executeTakeFirst();
    if (!account) throw new AppError('not_found', `No account ${input.id}.`);
    // A setting of this server, not a passing state: asking again changes nothing until Stripe is configured.
    const billing = ctx.services.billing.port;
    if (!billing) throw new AppError('conflict', 'Stripe billing is not configured on this server.');
    const { stripe_customer_id: customerId, stripe_subscription_id: replacing } = account;
    if (!customerId || !replacing || !subscriptionEnded(account.subscription_status)) {
      throw new AppError(
        'conflict',
        `The account's subscription has not ended (${account.subscription_status ?? 'none yet'}): there is nothing to replace.`,
      );
    }

    // Stripe failing is a logged `internal_error`; retrying is safe.
    const subscription = await billing.resubscribe({
      userId: input.id,
      tier: account.tier,
      customerId,
      replacing,
    });

    return db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('billing_account')
        .select(['stripe_subscription_id', 'subscription_status'])
        .where('user_id', '=', input.id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      // A concurrent resubscribe got the same subscription from Stripe and recorded it (and its audit).
      if (
        current.stripe_subscription_id === subscription.id &&
        !subscriptionEnded(current.subscription_status)
      ) {
        return { user_id: input.id, subscription: subscriptionDto(current) };
      }
      if (current.stripe_subscription_id !== replacing) {
        throw new AppError('conflict', "The account's subscription changed meanwhile: look again.");
      }
      const after = await trx
        .updateTable('billing_account')
        .set({
          stripe_subscription_id: subscription.id,
          subscription_status: subscription.status,
          // Stripe's clock, as webhook events are ordered by: the new subscription's events are never older.
          subscription_status_at: subscription.created,
          updated_at: new Date(),
        })
        .where('user_id', '=', input.id)
        .returning(['stripe_subscription_id', 'subscription_status'])
        .executeTakeFirstOrThrow();
      await recordAudit(trx, ctx, {
        actor: { type: 'user', id: ctx.user.id },
        action: 'billing.resubscribed',
        target: { type: 'user', id: input.id },
        details: { replaced: replacing, subscription: subscription.id, status: subscription.status },
      });
      return { user_id: input.id, subscription: subscriptionDto(after) };
    });
  });
