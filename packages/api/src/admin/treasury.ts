import { z } from 'zod';
import { treasuryStatus } from '../money/treasury';
import { adminProcedure } from '../trpc';

const ZTreasury = z.object({
  wallet_id: z.string(),
  address: z.string().describe('base58 public key'),
  network: z.string(),
  chain: z.object({ usdc: z.string(), lamports: z.string() }).describe('On-chain balances, base units'),
  ledger: z.object({ usdc: z.string(), lamports: z.string() }).describe('Ledger balances, base units'),
  float_usdc: z.string(),
  low: z.boolean().describe('Under 20% of the float: refill the treasury'),
});

export const getTreasury = adminProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/admin/treasury',
      tags: ['admin'],
      summary: 'Treasury address and balances (admin)',
    },
  })
  .input(z.void())
  .output(ZTreasury)
  .query(({ ctx }) => treasuryStatus(ctx.services));
