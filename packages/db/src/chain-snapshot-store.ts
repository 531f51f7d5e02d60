import type { ChainAccount, ChainSnapshotStore } from '@tdk/core';
import type { Kysely, QueryCreator } from 'kysely';
import { toBigInt } from './driver';
import type { Database } from './schema';

/** Keeps the embedded chain's accounts in the database, so its state lives exactly as long as the data. */
export function createChainSnapshotStore(db: Kysely<Database>): ChainSnapshotStore {
  return {
    async load() {
      const rows = await db.selectFrom('chain_account').selectAll().execute();
      return rows.map(
        (row): ChainAccount => ({
          address: row.address,
          lamports: toBigInt(row.lamports),
          owner: row.owner,
          executable: row.executable,
          data: new Uint8Array(row.data),
        }),
      );
    },
    async save(accounts, transaction) {
      const upsertAccounts = (qc: QueryCreator<Database>) =>
        qc
          .insertInto('chain_account')
          .values(
            accounts.map((a) => ({
              address: a.address,
              lamports: a.lamports.toString(),
              owner: a.owner,
              executable: a.executable,
              data: a.data,
            })),
          )
          .onConflict((oc) =>
            oc.column('address').doUpdateSet((eb) => ({
              lamports: eb.ref('excluded.lamports'),
              owner: eb.ref('excluded.owner'),
              executable: eb.ref('excluded.executable'),
              data: eb.ref('excluded.data'),
              updated_at: new Date(),
            })),
          );
      if (!transaction) {
        if (accounts.length > 0) await upsertAccounts(db).execute();
        return;
      }
      // A landed transaction always wrote accounts (its fee payer's at least): its record and those
      // accounts are one statement, so both are saved or neither.
      if (accounts.length === 0)
        throw new RangeError('a landed transaction is saved with the accounts it wrote');
      await db
        .with('accounts', upsertAccounts)
        .insertInto('chain_transaction')
        .values({
          signature: transaction.signature,
          failed: transaction.failed,
          lamports_spent: transaction.lamportsSpent.toString(),
        })
        .onConflict((oc) => oc.column('signature').doNothing())
        .execute();
    },
    async transaction(signature) {
      const row = await db
        .selectFrom('chain_transaction')
        .selectAll()
        .where('signature', '=', signature)
        .executeTakeFirst();
      return row && { signature, failed: row.failed, lamportsSpent: toBigInt(row.lamports_spent) };
    },
  };
}
