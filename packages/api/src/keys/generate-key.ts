import { AppError, newId, type Tier } from '@tdk/core';
import type { Database } from '@tdk/db';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import { recordAudit } from '../audit/record';
import type { UserRow } from '../auth/sessions';
import { openBillingAccount } from '../billing/delivery';
import { fundLater, fundNewWallet } from '../money/funding';
import { createWallet } from '../money/wallets';
import type { Services } from '../services';
import { signedInProcedure } from '../trpc';
import { apiKeyDto, expiryOf, ZKeyExpiry, ZKeyName, ZKeySpendCap, ZKeyWithSecret } from './schemas';
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
  .input(
    z
      .strictObject({
        name: ZKeyName.optional(),
        monthly_spend_cap: ZKeySpendCap.optional(),
        expires_at: ZKeyExpiry.optional(),
      })
      .optional(),
  )
  .output(ZKeyWithSecret)
  .mutation(async ({ ctx, input }) => {
    const { key, wallet, secret } = await createApiKey(ctx.services, ctx, ctx.user, {
      name: input?.name,
      monthlySpendCap: input?.monthly_spend_cap,
      expiresAt: expiryOf(input?.expires_at ?? null),
    });
    return { key: apiKeyDto(key, wallet), secret };
  });

/**
 * Creates a key for `owner` (audited as their action) with its wallet, then funds the wallet. The
 * secret is returned for the caller to show once, or to drop (the admin app's "try it" keys).
 */
export async function createApiKey(
  services: Services,
  origin: { ip: string | undefined; userAgent: string | undefined },
  owner: Pick<UserRow, 'id' | 'tier' | 'role'>,
  {
    name = 'Default key',
    monthlySpendCap = null,
    expiresAt = null,
  }: { name?: string; monthlySpendCap?: number | null; expiresAt?: Date | null } = {},
) {
  const { db, keyEnvironment } = services;
  const secret = generateKeySecret(keyEnvironment);
  const created = await db.transaction().execute(async (trx) => {
    // Admins are exempt: the admin app makes "try it" keys on their own account.
    if (owner.role !== 'admin') await assertMayCreateKey(trx, services.tiers[owner.tier], owner.id);
    const wallet = await createWallet(trx, services, {
      kind: 'dedicated',
      ownerUserId: owner.id,
      tier: owner.tier,
    });
    const key = await trx
      .insertInto('api_key')
      .values({
        id: newId('key'),
        user_id: owner.id,
        wallet_id: wallet.id,
        name,
        environment: keyEnvironment,
        secret_hash: hashKeySecret(secret),
        hint: keyHint(secret),
        monthly_spend_cap: monthlySpendCap,
        expires_at: expiresAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await openBillingAccount(trx, owner.id);
    await recordAudit(trx, origin, {
      actor: { type: 'user', id: owner.id },
      action: 'key.created',
      target: { type: 'api_key', id: key.id },
      details: {
        wallet: wallet.public_key,
        name: key.name,
        monthly_spend_cap: monthlySpendCap,
        expires_at: expiresAt?.toISOString() ?? null,
      },
    });
    return { key, wallet };
  });
  // Funding moves money on chain, so it runs after the key exists; a failure here is retried by a
  // job, and by the first call, which funds an unfunded wallet before paying.
  await fundNewWallet(services, created.wallet.id).catch(async (err: unknown) => {
    await fundLater(services, created.wallet.id);
    await services.alerts.raise({
      kind: 'wallet_funding_failed',
      severity: 'warning',
      message: 'A new key could not be funded yet; its first call will retry.',
      details: { key_id: created.key.id, error: err instanceof Error ? err.message : String(err) },
    });
  });
  return { ...created, secret };
}

/** Within the tier's keys: held (not revoked; an expired key counts, it can be extended) and created in the last day. */
async function assertMayCreateKey(trx: Kysely<Database>, tier: Tier, userId: string): Promise<void> {
  // One key creation per account at a time, so concurrent requests cannot pass the count together.
  await trx.selectFrom('app_user').select('id').where('id', '=', userId).forUpdate().execute();
  const counts = await trx
    .selectFrom('api_key')
    .select((eb) => [
      eb.fn.countAll<string>().filterWhere('status', '=', 'active').as('active'),
      eb.fn
        .countAll<string>()
        .filterWhere('created_at', '>', sql<Date>`now() - interval '1 day'`)
        .as('today'),
    ])
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  const max = tier.maxActiveKeys;
  const details = { max_active_keys: max };
  if (Number(counts.active) >= max) {
    throw new AppError(
      'key_limit_reached',
      `Your tier allows ${max} active keys (an expired key counts until revoked): revoke one you no longer use.`,
      {
        details,
      },
    );
  }
  if (Number(counts.today) >= max) {
    throw new AppError('key_limit_reached', `Your tier allows ${max} new keys a day: try again tomorrow.`, {
      details,
    });
  }
}
