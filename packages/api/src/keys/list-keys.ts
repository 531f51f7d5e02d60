import { AppError } from '@tdk/core';
import type { ApiKeyTable, Database } from '@tdk/db';
import { type ExpressionBuilder, type Kysely, type Selectable, sql } from 'kysely';
import { z } from 'zod';
import { newestFirst, ZPageInput } from '../pagination';
import { signedInProcedure } from '../trpc';
import { apiKeyDto, keyStatuses, ZApiKey, ZKeyId } from './schemas';

const ZApiKeyList = z
  .object({
    items: z.array(ZApiKey),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last'),
  })
  .meta({ id: 'ApiKeyList' });

/** Keys in one status as their owner sees it: `active` and `expired` are both active rows. */
export const withStatus =
  (status: (typeof keyStatuses)[number]) => (eb: ExpressionBuilder<Database, 'api_key'>) => {
    if (status === 'revoked') return eb('api_key.status', '=', 'revoked');
    const expired = sql<boolean>`(api_key.expires_at is not null and api_key.expires_at <= now())`;
    return eb.and([eb('api_key.status', '=', 'active'), status === 'expired' ? expired : eb.not(expired)]);
  };

/** The account's keys, each with its wallet's address. */
const ownKeys = (db: Kysely<Database>, userId: string) =>
  db
    .selectFrom('api_key')
    .innerJoin('wallet', 'wallet.id', 'api_key.wallet_id')
    .selectAll('api_key')
    .select(['wallet.public_key'])
    .where('api_key.user_id', '=', userId);

const dtoOf = (row: Selectable<ApiKeyTable> & { public_key: string }) =>
  apiKeyDto(row, { id: row.wallet_id, public_key: row.public_key });

export const listKeys = signedInProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/keys',
      tags: ['keys'],
      summary: 'Your API keys (never their secrets)',
      description:
        'Newest first, a page at a time; `status` keeps only the keys in that status: `active`, `expired` (past its `expires_at`, not revoked) or `revoked`.',
    },
  })
  // Optional over tRPC, as it was before pages: no input is the first page of every key.
  .input(z.object({ status: z.enum(keyStatuses).optional(), ...ZPageInput }).prefault({}))
  .output(ZApiKeyList)
  .query(async ({ ctx, input }) => {
    let q = ownKeys(ctx.services.db, ctx.user.id);
    if (input.status) q = q.where(withStatus(input.status));
    const page = await newestFirst(q, { time: 'api_key.created_at', id: 'api_key.id' }, input);
    return { items: page.items.map(dtoOf), next_cursor: page.next_cursor };
  });

export const getKey = signedInProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/keys/{id}',
      tags: ['keys'],
      summary: 'One of your API keys (never its secret)',
    },
  })
  .input(ZKeyId)
  .output(ZApiKey)
  .query(async ({ ctx, input }) => {
    const row = await ownKeys(ctx.services.db, ctx.user.id)
      .where('api_key.id', '=', input.id)
      .executeTakeFirst();
    if (!row) throw new AppError('not_found', `No API key ${input.id}.`);
    return dtoOf(row);
  });
