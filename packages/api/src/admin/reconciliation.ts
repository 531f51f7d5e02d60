import { z } from 'zod';
import { reconcileUsage } from '../billing/reconcile-usage';
import { reconcileBalances } from '../money/reconcile';
import type { Services } from '../services';
import { adminProcedure } from '../trpc';

/** `YYYY-MM`, UTC. */
export const ZPeriod = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/)
  .describe('`YYYY-MM` (UTC); default: the current month');

export const ZReconciliationReport = z.object({
  checked_wallets: z.number().int(),
  differences: z.array(
    z.object({
      wallet_id: z.string(),
      kind: z.string(),
      address: z.string(),
      asset: z.enum(['usdc', 'sol']),
      ledger: z.string(),
      chain: z.string(),
      difference: z.string().describe('chain − ledger, base units'),
    }),
  ),
  usage: z.object({
    period: z.string(),
    accounts: z.number().int(),
    differences: z.array(
      z.object({
        user_id: z.string(),
        period: z.string(),
        check: z.enum(['calls_vs_ledger', 'usage_vs_reports', 'reports_vs_stripe']),
        expected: z.string(),
        actual: z.string(),
      }),
    ),
    undelivered_reports: z.number().int(),
  }),
});

export const getReconciliation = adminProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/admin/reconciliation',
      tags: ['admin'],
      summary: 'Ledger vs chain vs usage vs Stripe (admin)',
      description:
        'Every wallet TDK holds, its ledger balances against the chain; and per account for the month, paid calls against the ledger, billable usage against what was recorded for Stripe, and what was delivered against what Stripe summed. Empty `differences` are the goal.',
    },
  })
  .input(z.object({ period: ZPeriod.optional() }).optional())
  .output(ZReconciliationReport)
  .query(({ ctx, input }) => reconcile(ctx.services, input?.period));

/** The whole reconciliation: balances (ledger = chain) and the month's usage (usage = ledger = Stripe). */
export async function reconcile(services: Services, period = new Date().toISOString().slice(0, 7)) {
  const [balances, usage] = await Promise.all([
    reconcileBalances(services),
    reconcileUsage(services, period),
  ]);
  return { ...balances, usage };
}
