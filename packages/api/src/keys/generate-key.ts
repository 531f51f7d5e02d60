import { newId } from '@tdk/core';
import { z } from 'zod';
import { recordAudit } from '../audit/record';
import { openBillingAccount } from '../billing/delivery';
import { fundLater, fundNewWallet } from '../money/funding';
import { createWallet } from '../money/wallets';
import { signedInProcedure } from '../trpc';
import { apiKeyDto, ZKeyWithSecret } from './schemas';
import { generateKeySecret, hashKeySecret, keyHint } from './secret';

/**
 * A new API key and its dedicated wallet (one for the other, for life), funded from the treasury with
 * the tier's initial amounts. The secret is in this answer only.
 */
export const generateKey = signedInProcedure
  .meta({
    openapi: {
      method: 'POST',
      path: '/tdk/keys/generate',
      tags: ['keys'],
      summary: 'Create an API key',
      description:
        'Creates an API key with its own Solana wallet, funded for your tier. The secret is returned once: store it.',
    },
  })
  .input(z.object({ name: z.string().trim().min(1).max(100).optional() }).optional())
  .output(ZKeyWithSecret)
  .mutation(async ({ ctx, input }) => {
    const { db, keyEnvironment } = ctx.services;
    const secret = generateKeySecret(keyEnvironment);
    const created = await db.transaction().execute(async (trx) => {
      const wallet = await createWallet(trx, ctx.services, {
        kind: 'dedicated',
        ownerUserId: ctx.user.id,
        tier: ctx.user.tier,
      });
      const key = await trx
        .insertInto('api_key')
        .values({
          id: newId('key'),
          user_id: ctx.user.id,
          wallet_id: wallet.id,
          name: input?.name ?? 'Default key',
          environment: keyEnvironment,
          secret_hash: hashKeySecret(secret),
          hint: keyHint(secret),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await openBillingAccount(trx, ctx.user.id);
      await recordAudit(trx, ctx, {
        actor: { type: 'user', id: ctx.user.id },
        action: 'key.created',
        target: { type: 'api_key', id: key.id },
        details: { wallet: wallet.public_key, name: key.name },
      });
      return { key, wallet };
    });
    // Funding moves money on chain, so it runs after the key exists; a failure here is retried by a
    // job, and by the first call, which funds an unfunded wallet before paying.
    await fundNewWallet(ctx.services, created.wallet.id).catch(async (err: unknown) => {
      await fundLater(ctx.services, created.wallet.id);
      await ctx.services.alerts.raise({
        kind: 'wallet_funding_failed',
        severity: 'warning',
        message: 'A new key could not be funded yet; its first call will retry.',
        details: { key_id: created.key.id, error: err instanceof Error ? err.message : String(err) },
      });
    });
    return { key: apiKeyDto(created.key, created.wallet), secret };
  });
