import type { TransactionStatus } from '@tdk/core';
import { sql } from 'kysely';
import type { Services } from '../services';
import { bookTransaction, dropTransaction } from './journal';

/** What the chain says about a journaled transaction, once its blockhash can no longer land it. */
export type Settled =
  | { outcome: 'landed'; lamportsSpent: bigint }
  | { outcome: 'failed'; lamportsSpent: bigint }
  | { outcome: 'never_landed' };

/**
 * Asks the chain how a transaction sent at least a blockhash lifetime ago ended; undefined while the
 * chain cannot be asked. `unknown` that late means it never landed and never will.
 */
export async function settledOnChain(services: Services, signature: string): Promise<Settled | undefined> {
  let status: TransactionStatus;
  try {
    status = await services.chain.transactionStatus(signature);
    if (status === 'unknown') return { outcome: 'never_landed' };
    const lamportsSpent = await services.chain.lamportsSpentOf(signature);
    return { outcome: status === 'confirmed' ? 'landed' : 'failed', lamportsSpent };
  } catch {
    return undefined;
  }
}

const olderThan = (ms: number) => sql<Date>`now() - make_interval(secs => ${ms / 1000})`;

/**
 * Settles treasury transfers (funding, top-ups) that a process sent and did not live to book, then
 * lets funding and top-ups go on for wallets with nothing left in doubt. Payments of calls are
 * settled with their calls (`recoverCalls`). Returns the wallets whose initial funding can be retried.
 */
export async function settleJournal(services: Services, afterMs: number): Promise<string[]> {
  const { db } = services;
  const stale = await db
    .selectFrom('chain_intent')
    .select('signature')
    .where('status', '=', 'pending')
    .where('call_id', 'is', null)
    .where('created_at', '<', olderThan(afterMs))
    .orderBy('created_at')
    .limit(500)
    .execute();
  for (const { signature } of stale) {
    const settled = await settledOnChain(services, signature);
    if (!settled) continue;
    if (settled.outcome === 'landed') {
      await bookTransaction(db, signature, settled.lamportsSpent);
    } else {
      await dropTransaction(db, signature, settled.outcome === 'failed' ? settled.lamportsSpent : undefined);
    }
  }

  const nothingInDoubt = sql<boolean>`not exists (select 1 from chain_intent i where i.wallet_id = wallet.id and i.status = 'pending')`;
  await db
    .updateTable('wallet')
    .set({ top_up_claimed_at: null })
    .where('top_up_claimed_at', '<', olderThan(afterMs))
    .where(nothingInDoubt)
    .execute();
  const released = await db
    .updateTable('wallet')
    .set({ funding_claimed_at: null })
    .where('funded_at', 'is', null)
    .where('funding_claimed_at', '<', olderThan(afterMs))
    .where(nothingInDoubt)
    .returning('id')
    .execute();
  return released.map((w) => w.id);
}
