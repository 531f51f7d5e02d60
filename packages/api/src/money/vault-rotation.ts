import { kekVersionOf, rewrap } from '@tdk/core';
import type { Services } from '../services';

/**
 * Re-wraps every wallet's data key under the current KEK, a page at a time. Safe to stop and run
 * again (rows already current are skipped) and to run while serving: each row is swapped only if it
 * still holds the value that was read, and the previous KEK keeps decrypting until it is done.
 */
export async function rewrapWalletKeys(
  services: Pick<Services, 'db' | 'vault'>,
  options: { pageSize?: number; onProgress?: (done: number) => void } = {},
): Promise<{ rewrapped: number }> {
  const pageSize = options.pageSize ?? 500;
  const current = services.vault.currentVersion;
  let rewrapped = 0;
  for (;;) {
    const rows = await services.db
      .selectFrom('wallet')
      .select(['id', 'public_key', 'sealed_secret'])
      .where('kek_version', '!=', current)
      .orderBy('id')
      .limit(pageSize)
      .execute();
    if (rows.length === 0) return { rewrapped };
    for (const row of rows) {
      const sealed = rewrap(services.vault, row.sealed_secret, {
        walletId: row.id,
        publicKey: row.public_key,
      });
      await services.db
        .updateTable('wallet')
        .set({ sealed_secret: sealed, kek_version: kekVersionOf(sealed) })
        .where('id', '=', row.id)
        .where('sealed_secret', '=', row.sealed_secret)
        .execute();
      rewrapped++;
    }
    options.onProgress?.(rewrapped);
  }
}
