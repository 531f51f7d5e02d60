import { AppError } from '@tdk/core';
import type { Database } from '@tdk/db';
import type { Transaction } from 'kysely';
import { recordAudit } from '../audit/record';
import type { Services } from '../services';
import { signedInProcedure } from '../trpc';
import {
  apiKeyDto,
  expiryOf,
  ZApiKey,
  ZGraceSeconds,
  ZKeyExpiry,
  ZKeyId,
  ZKeyName,
  ZKeySpendCap,
  ZKeyWithSecret,
} from './schemas';
import { generateKeySecret, hashKeySecret, keyHint } from './secret';

/** Who asks for a key change, and from where: recorded in the audit log. */
interface KeyChangeOrigin {
  ip: string | undefined;
  userAgent: string | undefined;
  actorId: string;
}

/** The key, locked for the change. With `ownerId`, only that account's key: anyone else's is "not found". */
async function keyForUpdate(trx: Transaction<Database>, id: string, ownerId: string | undefined) {
  let q = trx.selectFrom('api_key').selectAll().where('id', '=', id);
  if (ownerId) q = q.where('user_id', '=', ownerId);
  const key = await q.forUpdate().executeTakeFirst();
  if (!key) throw new AppError('not_found', `No API key ${id}.`);
  const wallet = await trx
    .selectFrom('wallet')
    .select(['id', 'public_key'])
    .where('id', '=', key.wallet_id)
    .executeTakeFirstOrThrow();
  return { key, wallet };
}

/** The audit details of a change to someone else's key (an admin's): whose key it was. */
const ownerDetails = (origin: KeyChangeOrigin, key: { user_id: string }) =>
  origin.actorId === key.user_id ? {} : { owner_id: key.user_id };

/** Revokes a key (audited); calls with it fail from now on. Revoking a revoked key changes nothing. */
export async function revokeApiKey(
  services: Services,
  origin: KeyChangeOrigin,
  keyId: string,
  ownerId?: string,
) {
  const result = await services.db.transaction().execute(async (trx) => {
    const { key, wallet } = await keyForUpdate(trx, keyId, ownerId);
    if (key.status === 'revoked') return { key, wallet };
    const revoked = await trx
      .updateTable('api_key')
      .set({ status: 'revoked', revoked_at: new Date() })
      .where('id', '=', key.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, origin, {
      actor: { type: 'user', id: origin.actorId },
      action: 'key.revoked',
      target: { type: 'api_key', id: key.id },
      details: ownerDetails(origin, key),
    });
    return { key: revoked, wallet };
  });
  services.apiKeys.evict(result.key.id);
  return result;
}

/** A new secret for the same key and wallet (audited); the old one works for `graceSeconds` more. */
export async function rollApiKey(
  services: Services,
  origin: KeyChangeOrigin,
  keyId: string,
  graceSeconds: number,
  ownerId?: string,
) {
  const secret = generateKeySecret(services.keyEnvironment);
  const result = await services.db.transaction().execute(async (trx) => {
    const { key, wallet } = await keyForUpdate(trx, keyId, ownerId);
    if (key.status === 'revoked') throw new AppError('conflict', 'A revoked key cannot be rolled.');
    const rolled = await trx
      .updateTable('api_key')
      .set({
        secret_hash: hashKeySecret(secret),
        hint: keyHint(secret),
        previous_secret_hash: key.secret_hash,
        previous_secret_expires_at: new Date(Date.now() + graceSeconds * 1000),
      })
      .where('id', '=', key.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, origin, {
      actor: { type: 'user', id: origin.actorId },
      action: 'key.rolled',
      target: { type: 'api_key', id: key.id },
      details: { grace_seconds: graceSeconds, ...ownerDetails(origin, key) },
    });
    return { key: rolled, wallet };
  });
  services.apiKeys.evict(result.key.id);
  return { ...result, secret };
}

export const revokeKey = signedInProcedure
  .meta({
    openapi: {
      method: 'POST',
      path: '/tdk/keys/{id}/revoke',
      tags: ['keys'],
      summary: 'Revoke an API key',
      description:
        'Calls with the key fail from now on (within a second on every server). Its wallet stays with it.',
    },
  })
  .input(ZKeyId)
  .output(ZApiKey)
  .mutation(async ({ ctx, input }) => {
    const { key, wallet } = await revokeApiKey(
      ctx.services,
      { ...ctx, actorId: ctx.user.id },
      input.id,
      ctx.user.id,
    );
    return apiKeyDto(key, wallet);
  });

export const rollKey = signedInProcedure
  .meta({
    openapi: {
      method: 'POST',
      path: '/tdk/keys/{id}/roll',
      tags: ['keys'],
      summary: 'Roll an API key',
      description:
        'Issues a new secret for the same key and wallet. The old secret keeps working for `grace_seconds` (default one day), then stops. One old secret at a time: rolling again ends the earlier old secret at once.',
    },
  })
  .input(ZKeyId.extend({ grace_seconds: ZGraceSeconds.default(24 * 3600) }))
  .output(ZKeyWithSecret)
  .mutation(async ({ ctx, input }) => {
    const { key, wallet, secret } = await rollApiKey(
      ctx.services,
      { ...ctx, actorId: ctx.user.id },
      input.id,
      input.grace_seconds,
      ctx.user.id,
    );
    return { key: apiKeyDto(key, wallet), secret };
  });

/**
 * Renames a key, sets its own monthly spend cap or its expiry (audited). A change applies from the
 * next request (within a second on every server); spend already reserved this month stays.
 */
export const updateKey = signedInProcedure
  .meta({
    openapi: {
      method: 'PATCH',
      path: '/tdk/keys/{id}',
      tags: ['keys'],
      summary: 'Rename an API key, set its spend cap or its expiry',
      description:
        "`monthly_spend_cap` (USDC base units) caps this key's spend per calendar month (UTC) below your tier's cap; `expires_at` (in the future) is when the key stops working, also to revive an expired key; `null` removes either. Applies from the next request, within a second on every server.",
    },
  })
  .input(
    ZKeyId.extend({
      name: ZKeyName.optional(),
      monthly_spend_cap: ZKeySpendCap.optional(),
      expires_at: ZKeyExpiry.optional(),
    }),
  )
  .output(ZApiKey)
  .mutation(async ({ ctx, input }) => {
    const { id, name, monthly_spend_cap } = input;
    const expiresAt = input.expires_at === undefined ? undefined : expiryOf(input.expires_at);
    // As the answer shows them, to tell what changes; undefined: not asked.
    const requested = {
      name,
      monthly_spend_cap,
      expires_at: expiresAt === null ? null : expiresAt?.toISOString(),
    };
    const result = await ctx.services.db.transaction().execute(async (trx) => {
      const { key, wallet } = await keyForUpdate(trx, id, ctx.user.id);
      const before = apiKeyDto(key, wallet);
      const changes = Object.fromEntries(
        (['name', 'monthly_spend_cap', 'expires_at'] as const)
          .filter((field) => requested[field] !== undefined && requested[field] !== before[field])
          .map((field) => [field, { from: before[field], to: requested[field] }]),
      );
      if (Object.keys(changes).length === 0) return { key, wallet };
      const updated = await trx
        .updateTable('api_key')
        .set({ name, monthly_spend_cap, expires_at: expiresAt })
        .where('id', '=', key.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, ctx, {
        actor: { type: 'user', id: ctx.user.id },
        action: 'key.updated',
        target: { type: 'api_key', id: key.id },
        details: { changes },
      });
      return { key: updated, wallet };
    });
    ctx.services.apiKeys.evict(result.key.id);
    return apiKeyDto(result.key, result.wallet);
  });
