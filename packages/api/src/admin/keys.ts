import { AppError, ledgerAccount } from '@tdk/core';
import { toBigInt } from '@tdk/db';
import { z } from 'zod';
import { recordAudit } from '../audit/record';
import { dayPeriod, monthPeriod } from '../calls/limits';
import { revokeApiKey, rollApiKey } from '../keys/change-key';
import { createApiKey } from '../keys/generate-key';
import { withStatus } from '../keys/list-keys';
import { apiKeyDto, keyStatuses, ZApiKey, ZGraceSeconds, ZKeyId } from '../keys/schemas';
import { fundNewWallet, topUpIfLow } from '../money/funding';
import { ledgerBalances } from '../money/ledger';
import { newestFirst, ZPageInput } from '../pagination';
import { adminProcedure } from '../trpc';

const ZAdminKey = ZApiKey.extend({
  owner: z.object({ id: z.string(), email: z.string() }),
  balances: z
    .object({ usdc: z.number().int(), lamports: z.number().int() })
    .describe("The wallet's ledger balances, base units (the reconciliation checks them against the chain)"),
  usage: z
    .object({ today_calls: z.number().int(), month_spend: z.number().int().describe('USDC base units') })
    .describe("The key's quota and spend-cap counters"),
});

/** Every account's keys with their wallets, ledger balances and usage, newest first. */
export const listAllKeys = adminProcedure
  .input(
    z.object({
      user_id: z.string().max(64).optional(),
      query: z.string().max(100).optional().describe('A key id or a wallet address'),
      status: z.enum(keyStatuses).optional(),
      ...ZPageInput,
    }),
  )
  .output(z.object({ items: z.array(ZAdminKey), next_cursor: z.string().nullable() }))
  .query(async ({ ctx, input }) => {
    const { db } = ctx.services;
    let q = db
      .selectFrom('api_key')
      .innerJoin('wallet', 'wallet.id', 'api_key.wallet_id')
      .innerJoin('app_user', 'app_user.id', 'api_key.user_id')
      .selectAll('api_key')
      .select(['wallet.public_key', 'app_user.email']);
    if (input.user_id) q = q.where('api_key.user_id', '=', input.user_id);
    if (input.status) q = q.where(withStatus(input.status));
    const term = input.query?.trim();
    if (term) q = q.where((eb) => eb.or([eb('api_key.id', '=', term), eb('wallet.public_key', '=', term)]));
    const page = await newestFirst(q, { time: 'api_key.created_at', id: 'api_key.id' }, input);
    const now = new Date();
    const keyIds = page.items.map((r) => r.id);
    const [balances, usage] = await Promise.all([
      ledgerBalances(
        db,
        page.items.map((r) => ledgerAccount.wallet(r.wallet_id)),
      ),
      keyIds.length
        ? db
            .selectFrom('key_usage_period')
            .selectAll()
            .where('api_key_id', 'in', keyIds)
            .where('period', 'in', [dayPeriod(now), monthPeriod(now)])
            .execute()
        : [],
    ]);
    const usageOf = (keyId: string, period: string) =>
      usage.find((u) => u.api_key_id === keyId && u.period === period);
    return {
      items: page.items.map((row) => {
        const balance = balances.get(ledgerAccount.wallet(row.wallet_id));
        const month = usageOf(row.id, monthPeriod(now));
        return {
          ...apiKeyDto(row, { id: row.wallet_id, public_key: row.public_key }),
          owner: { id: row.user_id, email: row.email },
          balances: { usdc: Number(balance?.usdc ?? 0n), lamports: Number(balance?.sol ?? 0n) },
          usage: {
            today_calls: usageOf(row.id, dayPeriod(now))?.calls ?? 0,
            month_spend: Number(month ? toBigInt(month.spend) : 0n),
          },
        };
      }),
      next_cursor: page.next_cursor,
    };
  });

/** Revokes any account's key (audited with its owner); calls with it fail from now on. */
export const adminRevokeKey = adminProcedure
  .input(ZKeyId)
  .output(ZApiKey)
  .mutation(async ({ ctx, input }) => {
    const { key, wallet } = await revokeApiKey(ctx.services, { ...ctx, actorId: ctx.user.id }, input.id);
    return apiKeyDto(key, wallet);
  });

/**
 * Rolls any account's key: the current secret stops after `grace_seconds`. The new secret is shown
 * to nobody (it never reaches the browser); the owner rolls the key again to get one they can use.
 */
export const adminRollKey = adminProcedure
  .input(ZKeyId.extend({ grace_seconds: ZGraceSeconds }))
  .output(ZApiKey)
  .mutation(async ({ ctx, input }) => {
    const { key, wallet } = await rollApiKey(
      ctx.services,
      { ...ctx, actorId: ctx.user.id },
      input.id,
      input.grace_seconds,
    );
    return apiKeyDto(key, wallet);
  });

/**
 * Refills a key's wallet from the treasury now: its initial funding if it never got it, else a top-up
 * to its tier's level when under the tier's threshold (nothing when it is not). Audited.
 */
export const adminTopUpKey = adminProcedure
  .input(ZKeyId)
  .output(
    z.object({
      kind: z.enum(['initial_funding', 'top_up', 'not_needed']),
      usdc: z.number().int(),
      lamports: z.number().int(),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    const { services } = ctx;
    const found = await services.db
      .selectFrom('api_key')
      .innerJoin('wallet', 'wallet.id', 'api_key.wallet_id')
      .selectAll('wallet')
      .select(['api_key.user_id as owner_id', 'api_key.status as key_status'])
      .where('api_key.id', '=', input.id)
      .executeTakeFirst();
    if (!found) throw new AppError('not_found', `No API key ${input.id}.`);
    const { owner_id, key_status, ...wallet } = found;
    if (key_status === 'revoked')
      throw new AppError('conflict', 'The wallet of a revoked key is not topped up.');
    let result: { kind: 'initial_funding' | 'top_up' | 'not_needed'; usdc: bigint; lamports: bigint };
    if (!wallet.funded_at && wallet.tier) {
      const funded = await fundNewWallet(services, wallet.id);
      const initial = services.tiers[wallet.tier].initialFunding;
      result = funded
        ? { kind: 'initial_funding', ...initial }
        : { kind: 'not_needed', usdc: 0n, lamports: 0n };
    } else {
      const sent = await topUpIfLow(services, wallet);
      result = { kind: sent.usdc || sent.lamports ? 'top_up' : 'not_needed', ...sent };
    }
    // After the fact: the money moved on chain and is booked in the ledger by then.
    await recordAudit(services.db, ctx, {
      actor: { type: 'user', id: ctx.user.id },
      action: 'wallet.top_up_requested',
      target: { type: 'api_key', id: input.id },
      details: {
        owner_id,
        wallet: wallet.public_key,
        outcome: result.kind,
        usdc: result.usdc.toString(),
        lamports: result.lamports.toString(),
      },
    });
    return { kind: result.kind, usdc: Number(result.usdc), lamports: Number(result.lamports) };
  });

/**
 * A key of the signed-in admin's own account for "try it" calls. Its secret is dropped at once: the
 * admin app calls agents with it through `admin.agents.try`, so no secret ever reaches a browser.
 */
export const createTestKey = adminProcedure
  .input(z.strictObject({ name: z.string().trim().min(1).max(100).default('Admin try-it key') }))
  .output(ZApiKey)
  .mutation(async ({ ctx, input }) => {
    const { key, wallet } = await createApiKey(ctx.services, ctx, ctx.user, { name: input.name });
    return apiKeyDto(key, wallet);
  });
