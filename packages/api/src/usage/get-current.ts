import { toBigInt } from '@tdk/db';
import { z } from 'zod';
import { callerTier, dayPeriod, monthPeriod } from '../calls/limits';
import { apiKeyReadProcedure } from '../trpc';

const amount = z.number().int();

export const getCurrentUsage = apiKeyReadProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/usage/current',
      tags: ['usage'],
      summary: "Your key's tier, limits, quota, spend and wallet balances",
    },
  })
  .input(z.void())
  .output(
    z.object({
      tier: z.enum(['free', 'paid', 'pro']),
      limits: z.object({
        calls_per_minute: z.number().int(),
        included_calls_per_day: z.number().int().nullable(),
        monthly_spend_cap: amount.nullable(),
      }),
      quota: z.object({
        used_today: z.number().int(),
        remaining_today: z.number().int().nullable(),
        resets_at: z.string(),
      }),
      spend: z.object({
        this_month: amount,
        remaining: amount.nullable(),
        currency: z.literal('USDC'),
        decimals: z.literal(6),
      }),
      wallet: z.object({ address: z.string(), usdc: amount, lamports: amount }),
    }),
  )
  .query(async ({ ctx }) => {
    const { key, wallet, user } = ctx.apiKey;
    const tierName = user.tier;
    const tier = callerTier(ctx.services.tiers, ctx.apiKey);
    const now = new Date();
    const [periods, balances] = await Promise.all([
      ctx.services.db
        .selectFrom('key_usage_period')
        .selectAll()
        .where('api_key_id', '=', key.id)
        .where('period', 'in', [dayPeriod(now), monthPeriod(now)])
        .execute(),
      ctx.services.chain.balances(wallet.public_key),
    ]);
    const usedToday = periods.find((p) => p.period === dayPeriod(now))?.calls ?? 0;
    const spent = toBigInt(periods.find((p) => p.period === monthPeriod(now))?.spend);
    const tomorrow = new Date(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
    tomorrow.setUTCDate(tomorrow.getUTCDate() + 1);
    return {
      tier: tierName,
      limits: {
        calls_per_minute: tier.callsPerMinute,
        included_calls_per_day: tier.includedCallsPerDay,
        monthly_spend_cap: tier.monthlySpendCap === null ? null : Number(tier.monthlySpendCap),
      },
      quota: {
        used_today: usedToday,
        remaining_today:
          tier.includedCallsPerDay === null ? null : Math.max(0, tier.includedCallsPerDay - usedToday),
        resets_at: tomorrow.toISOString(),
      },
      spend: {
        this_month: Number(spent),
        remaining: tier.monthlySpendCap === null ? null : Math.max(0, Number(tier.monthlySpendCap - spent)),
        currency: 'USDC' as const,
        decimals: 6 as const,
      },
      wallet: {
        address: wallet.public_key,
        usdc: Number(balances.usdc),
        lamports: Number(balances.lamports),
      },
    };
  });
