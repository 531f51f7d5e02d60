import { AppError, subscriptionEnded } from '@tdk/core';
import type { ApiKeyTable, Database, UserTable, WalletTable } from '@tdk/db';
import type { Kysely, Selectable } from 'kysely';
import { hashKeySecret } from './secret';

export interface VerifiedKey {
  key: Selectable<ApiKeyTable>;
  wallet: Selectable<WalletTable>;
  user: Selectable<UserTable>;
  /** `past_due` after a failed invoice payment: calls are refused until it is paid. */
  paymentStatus: 'ok' | 'past_due';
  /** Stripe's status of the account's current subscription; `null` before it has one. Ended: calls are refused. */
  subscriptionStatus: string | null;
}

export interface ApiKeyVerifier {
  /**
   * The key, its wallet, owner and billing status; throws `invalid_api_key`, or `api_key_revoked` for
   * a rolled secret past its grace period. Whether it may be used is `assertKeyUsable`'s question, whether it may call `assertMayCall`'s.
   */
  verify(secret: string): Promise<VerifiedKey>;
  /** Drops cached verifications, e.g. right after a revoke or roll in this process. */
  evict(keyId: string): void;
}

/**
 * Refuses a key that may not be used at all: revoked, expired, or its account suspended. Checked on
 * every request with a key (from the cached row, so an expiry takes effect to the millisecond).
 */
export function assertKeyUsable(caller: Pick<VerifiedKey, 'key' | 'user'>): void {
  const { key } = caller;
  if (key.status === 'revoked') throw new AppError('api_key_revoked', 'This API key has been revoked.');
  if (key.expires_at !== null && key.expires_at.getTime() <= Date.now()) {
    throw new AppError(
      'api_key_expired',
      `This API key expired at ${key.expires_at.toISOString()}. Extend it (PATCH /api/tdk/keys/{id}) or create another.`,
    );
  }
  if (caller.user.status !== 'active') {
    throw new AppError('account_suspended', 'This account is suspended. Contact support.');
  }
}

/**
 * Refuses a caller whose key may not pay for a call now: not usable, its account's last invoice
 * unpaid, or its subscription ended (its usage would be on no invoice). Checked before every call, and
 * again when a queued async call comes to run. Such a key can still read its calls and usage.
 */
export function assertMayCall(
  caller: Pick<VerifiedKey, 'key' | 'user' | 'paymentStatus' | 'subscriptionStatus'>,
): void {
  assertKeyUsable(caller);
  if (caller.paymentStatus === 'past_due') {
    throw new AppError(
      'billing_past_due',
      "The account's last invoice could not be paid, so its keys cannot call agents. They can again as soon as it is paid.",
    );
  }
  if (subscriptionEnded(caller.subscriptionStatus)) {
    throw new AppError(
      'subscription_canceled',
      "The account's subscription has ended, so its keys cannot call agents. Contact support to subscribe again.",
    );
  }
}

/**
 * Verifies API keys through a short-lived in-process cache. The cache lifetime bounds how long a
 * revoked key can still pass on another server process (a revoke evicts at once in its own).
 */
export function createApiKeyVerifier(
  db: Kysely<Database>,
  options: { ttlMs: number; maxEntries?: number },
): ApiKeyVerifier {
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, { entry: VerifiedKey; expiresAt: number }>();

  async function load(hash: string): Promise<VerifiedKey> {
    const row = await db
      .selectFrom('api_key')
      .where((eb) => eb.or([eb('secret_hash', '=', hash), eb('previous_secret_hash', '=', hash)]))
      .selectAll()
      .executeTakeFirst();
    if (!row)
      throw new AppError('invalid_api_key', 'The API key is not valid. Check it, or create a new one.');
    if (
      row.secret_hash !== hash &&
      (!row.previous_secret_expires_at || row.previous_secret_expires_at <= new Date())
    ) {
      throw new AppError(
        'api_key_revoked',
        'This API key was rolled and its grace period is over. Use the new secret.',
      );
    }
    return callerOf(db, row);
  }

  return {
    async verify(secret) {
      const hash = hashKeySecret(secret);
      const now = Date.now();
      const hit = cache.get(hash);
      if (hit && hit.expiresAt > now) return hit.entry;
      const entry = await load(hash);
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(hash, { entry, expiresAt: now + options.ttlMs });
      return entry;
    },
    evict(keyId) {
      for (const [hash, { entry }] of cache) if (entry.key.id === keyId) cache.delete(hash);
    },
  };
}

/** A key's wallet, owner and billing status, read with the key row in hand. */
export async function callerOf(db: Kysely<Database>, key: Selectable<ApiKeyTable>): Promise<VerifiedKey> {
  const [wallet, user, billing] = await Promise.all([
    db.selectFrom('wallet').selectAll().where('id', '=', key.wallet_id).executeTakeFirstOrThrow(),
    db.selectFrom('app_user').selectAll().where('id', '=', key.user_id).executeTakeFirstOrThrow(),
    db
      .selectFrom('billing_account')
      .select(['payment_status', 'subscription_status'])
      .where('user_id', '=', key.user_id)
      .executeTakeFirst(),
  ]);
  return {
    key,
    wallet,
    user,
    paymentStatus: billing?.payment_status ?? 'ok',
    subscriptionStatus: billing?.subscription_status ?? null,
  };
}
