import { z } from 'zod';
import { signedInProcedure } from '../trpc';
import { apiKeyDto, ZApiKey } from './schemas';

export const listKeys = signedInProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/keys',
      tags: ['keys'],
      summary: 'Your API keys (never their secrets)',
    },
  })
  .input(z.void())
  .output(z.object({ items: z.array(ZApiKey) }))
  .query(async ({ ctx }) => {
    const rows = await ctx.services.db
      .selectFrom('api_key')
      .innerJoin('wallet', 'wallet.id', 'api_key.wallet_id')
      .selectAll('api_key')
      .select(['wallet.public_key'])
      .where('api_key.user_id', '=', ctx.user.id)
      .orderBy('api_key.created_at', 'desc')
      .limit(500)
      .execute();
    return { items: rows.map((row) => apiKeyDto(row, { id: row.wallet_id, public_key: row.public_key })) };
  });
