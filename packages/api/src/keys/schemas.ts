import { AppError } from '@tdk/core';
import type { ApiKeyTable, WalletTable } from '@tdk/db';
import type { Selectable } from 'kysely';
import { z } from 'zod';

/** A key as its owner sees it: working, revoked for good, or past its expiry (which can be moved). */
export const keyStatuses = ['active', 'revoked', 'expired'] as const;

/** A key named in a path or body; a field the route does not know is refused (see `ZCallRequest`). */
export const ZKeyId = z.strictObject({ id: z.string().max(64) });

/** How long a rolled key's old secret keeps working: at most a week. */
export const ZGraceSeconds = z
  .number()
  .int()
  .min(0)
  .max(7 * 24 * 3600);

export const ZApiKey = z
  .object({
    id: z.string().describe('`key_…`'),
    name: z.string(),
    hint: z.string().describe('Prefix and last four characters of the secret'),
    environment: z.enum(['test', 'live']),
    status: z.enum(keyStatuses).describe('`expired`: past its `expires_at`, until extended'),
    wallet: z.object({ id: z.string(), address: z.string().describe('The dedicated Solana wallet, base58') }),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    monthly_spend_cap: z
      .number()
      .int()
      .nullable()
      .describe("Your own monthly spend cap for this key, USDC base units; null: your tier's cap alone"),
    expires_at: z
      .string()
      .nullable()
      .describe('When the key stops working by itself; null: it works until revoked'),
  })
  .meta({ id: 'ApiKey' });

/** A key's own monthly spend cap as requests give it: USDC base units (micro-dollars), or null for none. */
export const ZKeySpendCap = z
  .number()
  .int()
  .min(0)
  .max(Number.MAX_SAFE_INTEGER)
  .nullable()
  .describe(
    "This key's own monthly spend cap, USDC base units (1000000 = $1); the tier's cap still applies when lower; null: none",
  );

/** When a key stops working, as requests give it: a future time with its offset, or null for never. */
export const ZKeyExpiry = z.iso
  .datetime({ offset: true })
  .nullable()
  .describe('When the key stops working by itself, e.g. `2027-01-31T00:00:00Z`; null: never (until revoked)');

/** An expiry as stored; one in the past is refused, so a key is never created or set already dead. */
export function expiryOf(value: string | null): Date | null {
  if (value === null) return null;
  const at = new Date(value);
  if (at.getTime() <= Date.now()) throw new AppError('invalid_input', '`expires_at` must be in the future.');
  return at;
}

/** A key's name as requests give it. */
export const ZKeyName = z.string().trim().min(1).max(100);

export const apiKeyDto = (
  key: Selectable<ApiKeyTable>,
  wallet: Pick<Selectable<WalletTable>, 'id' | 'public_key'>,
): z.infer<typeof ZApiKey> => ({
  id: key.id,
  name: key.name,
  hint: key.hint,
  environment: key.environment,
  status:
    key.status === 'active' && key.expires_at !== null && key.expires_at.getTime() <= Date.now()
      ? 'expired'
      : key.status,
  wallet: { id: wallet.id, address: wallet.public_key },
  created_at: key.created_at.toISOString(),
  last_used_at: key.last_used_at?.toISOString() ?? null,
  revoked_at: key.revoked_at?.toISOString() ?? null,
  monthly_spend_cap: key.monthly_spend_cap === null ? null : Number(key.monthly_spend_cap),
  expires_at: key.expires_at?.toISOString() ?? null,
});

export const ZKeyWithSecret = z.object({
  key: ZApiKey,
  secret: z.string().describe('The API key itself. Shown once: store it now, TDK keeps only its hash.'),
});
