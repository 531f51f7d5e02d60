import { AppError } from '@tdk/core';
import type { Database } from '@tdk/db';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import { recordAudit } from '../audit/record';
import { signedInProcedure } from '../trpc';
import { apiKeyDto, ZApiKey, ZKeyWithSecret } from './schemas';
import { generateKeySecret, hashKeySecret, keyHint } from './secret';

const ZKeyId = z.object({ id: z.string().max(64) });

/** The caller's own key, locked for the change; anyone else's is "not found". */
async function ownKeyForUpdate(trx: Transaction<Database>, userId: string, id: string) {
  const key = await trx
    .selectFrom('api_key')
    .selectAll()
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
  if (!key) throw new AppError('not_found', `No API key ${id}.`);
  const wallet = await trx
    .selectFrom('wallet')
    .select(['id', 'public_key'])
    .where('id', '=', key.wallet_id)
    .executeTakeFirstOrThrow();
  return { key, wallet };
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
    const result = await ctx.services.db.transaction().execute(async (trx) => {
      const { key, wallet } = await ownKeyForUpdate(trx, ctx.user.id, input.id);
      if (key.status === 'revoked') return { key, wallet };
      const revoked = await trx
        .updateTable('api_key')
        .set({ status: 'revoked', revoked_at: new Date() })
        .where('id', '=', key.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, ctx, {
        actor: { type: 'user', id: ctx.user.id },
        action: 'key.revoked',
        target: { type: 'api_key', id: key.id },
      });
      return { key: revoked, wallet };
    });
    ctx.services.apiKeys.evict(result.key.id);
    return apiKeyDto(result.key, result.wallet);
  });

export const rollKey = signedInProcedure
  .meta({
    openapi: {
      method: 'POST',
      path: '/tdk/keys/{id}/roll',
      tags: ['keys'],
      summary: 'Roll an API key',
      description:
        'Issues a new secret for the same key and wallet. The old secret keeps working for `grace_seconds` (default one day), then stops.',
    },
  })
  .input(
    ZKeyId.extend({
      grace_seconds: z
        .number()
        .int()
        .min(0)
        .max(7 * 24 * 3600)
        .default(24 * 3600),
    }),
  )
  .output(ZKeyWithSecret)
  .mutation(async ({ ctx, input }) => {
    const secret = generateKeySecret(ctx.services.keyEnvironment);
    const result = await ctx.services.db.transaction().execute(async (trx) => {
      const { key, wallet } = await ownKeyForUpdate(trx, ctx.user.id, input.id);
      if (key.status === 'revoked') throw new AppError('conflict', 'A revoked key cannot be rolled.');
      const rolled = await trx
        .updateTable('api_key')
        .set({
          secret_hash: hashKeySecret(secret),
          hint: keyHint(secret),
          previous_secret_hash: key.secret_hash,
          previous_secret_expires_at: new Date(Date.now() + input.grace_seconds * 1000),
        })
        .where('id', '=', key.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, ctx, {
        actor: { type: 'user', id: ctx.user.id },
        action: 'key.rolled',
        target: { type: 'api_key', id: key.id },
        details: { grace_seconds: input.grace_seconds },
      });
      return { key: rolled, wallet };
    });
    ctx.services.apiKeys.evict(result.key.id);
    return { key: apiKeyDto(result.key, result.wallet), secret };
  });
