import type { ChainAccount, ChainSnapshotStore } from '@tdk/core';
import { type Kysely, sql } from 'kysely';
import { toBigInt } from './driver';
import { prepared } from './prepared';
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
      if (accounts.length === 0) {
        // A landed transaction always wrote accounts (its fee payer's at least).
        if (transaction) throw new RangeError('a landed transaction is saved with the accounts it wrote');
        return;
      }
      const rows = accounts.map(
        (a) => sql`(${a.address}, ${a.lamports.toString()}, ${a.owner}, ${a.executable}, ${a.data})`,
      );
      const upsert = sql`
        insert into chain_account (address, lamports, owner, executable, data) values ${sql.join(rows)}
        on conflict (address) do update set lamports = excluded.lamports, owner = excluded.owner,
          executable = excluded.executable, data = excluded.data, updated_at = now()`;
      // Plain SQL, one statement: a landed transaction's record and the accounts it wrote are saved
      // together or not at all, at the cost of one round trip per transaction.
      await prepared(
        transaction
          ? sql`
            with accounts as (${upsert})
            insert into chain_transaction (signature, failed, lamports_spent)
            values (${transaction.signature}, ${transaction.failed}, ${transaction.lamportsSpent.toString()})
            on conflict (signature) do nothing`
          : upsert,
      ).execute(db);
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
