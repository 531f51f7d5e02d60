import { AppError, roles, subscriptionEnded, tierNames, userStatuses } from '@tdk/core';
import type { Database } from '@tdk/db';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import { userDto, ZUser } from '../auth/schemas';
import type { UserRow } from '../auth/sessions';
import { ZPageInput } from '../pagination';
import { adminProcedure } from '../trpc';
import { findUsers } from './list-users';

export const ZSubscription = z
  .object({
    id: z.string().nullable().describe('The Stripe subscription; null until billing opens (the first key)'),
    status: z.string().nullable().describe("Stripe's status: `active`, `past_due`, `canceled`, …"),
    ended: z
      .boolean()
      .describe("Canceled or expired: the account's keys cannot call agents until it is subscribed again"),
  })
  .meta({ id: 'Subscription' });

export function subscriptionDto(
  account: { stripe_subscription_id: string | null; subscription_status: string | null } | undefined,
): z.infer<typeof ZSubscription> {
  const status = account?.subscription_status ?? null;
  return { id: account?.stripe_subscription_id ?? null, status, ended: subscriptionEnded(status) };
}

const ZCustomer = ZUser.extend({
  keys: z.object({ active: z.number().int(), total: z.number().int() }),
  month: z.object({
    period: z.string().describe('`YYYY-MM`, UTC'),
    calls: z.number().int(),
    spend: z.number().int().describe('Developer cost this month, USDC base units'),
  }),
  payment_status: z.enum(['ok', 'past_due']),
  subscription: ZSubscription,
});

/** A page of accounts with their key counts, this month's calls and spend, payment status and subscription. */
async function summarise(db: Kysely<Database>, users: UserRow[]): Promise<Array<z.infer<typeof ZCustomer>>> {
  const ids = users.map((u) => u.id);
  if (ids.length === 0) return [];
  const now = new Date();
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const [keys, spend, billing] = await Promise.all([
    db
      .selectFrom('api_key')
      .select([
        'user_id',
        sql<string>`count(*)::text`.as('total'),
        sql<string>`(count(*) filter (where status = 'active'))::text`.as('active'),
      ])
      .where('user_id', 'in', ids)
      .groupBy('user_id')
      .execute(),
    db
      .selectFrom('call')
      .select([
        'user_id',
        sql<string>`count(*)::text`.as('calls'),
        sql<string>`coalesce(sum(developer_cost), 0)::text`.as('spend'),
      ])
      .where('user_id', 'in', ids)
      .where('created_at', '>=', monthStart)
      .groupBy('user_id')
      .execute(),
    db
      .selectFrom('billing_account')
      .select(['user_id', 'payment_status', 'stripe_subscription_id', 'subscription_status'])
      .where('user_id', 'in', ids)
      .execute(),
  ]);
  return users.map((user) => {
    const k = keys.find((r) => r.user_id === user.id);
    const s = spend.find((r) => r.user_id === user.id);
    const account = billing.find((b) => b.user_id === user.id);
    return {
      ...userDto(user),
      keys: { active: Number(k?.active ?? 0), total: Number(k?.total ?? 0) },
      month: {
        period: monthStart.toISOString().slice(0, 7),
        calls: Number(s?.calls ?? 0),
        spend: Number(s?.spend ?? 0),
      },
      payment_status: account?.payment_status ?? 'ok',
      subscription: subscriptionDto(account),
    };
  });
}

/** Find accounts by email, tier, status or role, with their keys and this month's spend. */
export const listCustomers = adminProcedure
  .input(
    z.object({
      query: z.string().max(254).optional().describe('Part of an email, or a user id'),
      tier: z.enum(tierNames).optional(),
      status: z.enum(userStatuses).optional(),
      role: z.enum(roles).optional(),
      ...ZPageInput,
    }),
  )
  .output(z.object({ items: z.array(ZCustomer), next_cursor: z.string().nullable() }))
  .query(async ({ ctx, input }) => {
    const page = await findUsers(ctx.services.db, input);
    return { items: await summarise(ctx.services.db, page.items), next_cursor: page.next_cursor };
  });

export const getCustomer = adminProcedure
  .input(z.object({ id: z.string().max(64) }))
  .output(ZCustomer)
  .query(async ({ ctx, input }) => {
    const { db } = ctx.services;
    const user = await db.selectFrom('app_user').selectAll().where('id', '=', input.id).executeTakeFirst();
    if (!user) throw new AppError('not_found', `No account ${input.id}.`);
    const [customer] = await summarise(db, [user]);
    return customer!;
  });
