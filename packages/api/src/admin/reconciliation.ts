import { z } from 'zod';
import { reconcileBalances } from '../money/reconcile';
import { adminProcedure } from '../trpc';

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
});

export const getReconciliation = adminProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/admin/reconciliation',
      tags: ['admin'],
      summary: 'Ledger vs chain, per wallet (admin)',
      description:
        'Every wallet TDK holds, its ledger balances against the chain. An empty `differences` is the goal.',
    },
  })
  .input(z.void())
  .output(ZReconciliationReport)
  .query(({ ctx }) => reconcileBalances(ctx.services));
