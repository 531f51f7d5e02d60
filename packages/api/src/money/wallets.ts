import { newId, openSecret, type Signer, sealSecret, type TierName } from '@tdk/core';
import type { Database, WalletKind, WalletTable } from '@tdk/db';
import type { Kysely, Selectable } from 'kysely';
import type { Services } from '../services';

export type WalletRow = Selectable<WalletTable>;

/**
 * Creates a wallet row: a keypair (new, or imported for the treasury), its secret sealed by the vault
 * with the row id and public key bound in, so the sealed value only ever opens for this row.
 */
export async function createWallet(
  db: Kysely<Database>,
  services: Pick<Services, 'vault' | 'newKeypair'>,
  wallet: { kind: WalletKind; ownerUserId?: string; tier?: TierName; keypair?: Signer },
): Promise<WalletRow> {
  const id = newId('wallet');
  const keypair = wallet.keypair ?? services.newKeypair();
  const sealed = sealSecret(services.vault, keypair.secretKey, {
    walletId: id,
    publicKey: keypair.publicKey,
  });
  return db
    .insertInto('wallet')
    .values({
      id,
      kind: wallet.kind,
      public_key: keypair.publicKey,
      sealed_secret: sealed,
      kek_version: services.vault.currentVersion,
      owner_user_id: wallet.ownerUserId ?? null,
      tier: wallet.tier ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The signer of a wallet, for the moment it signs. Never store or log what this returns. */
export function signerOf(services: Pick<Services, 'vault'>, wallet: WalletRow): Signer {
  const binding = { walletId: wallet.id, publicKey: wallet.public_key };
  return {
    publicKey: wallet.public_key,
    secretKey: openSecret(services.vault, wallet.sealed_secret, binding),
  };
}

export async function walletOfKind(db: Kysely<Database>, kind: Exclude<WalletKind, 'dedicated'>) {
  return db.selectFrom('wallet').selectAll().where('kind', '=', kind).executeTakeFirst();
}
