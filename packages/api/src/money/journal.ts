import { type ChainError, chainCostPostings, type Posting } from '@tdk/core';
import { type Database, prepared, toBigInt } from '@tdk/db';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { movementWrites, recordMovement } from './ledger';

/**
 * The chain journal: every transaction TDK signs is written down, with the ledger movement it will
 * be, before it is sent. Sending and booking cannot share a database transaction (the chain is not
 * the database), so a process can die between the two; the journal is what lets recovery settle
 * such a transaction from the chain afterwards, never losing or double-counting it.
 */
export interface PlannedMovement {
  /** The movement's id (also the transaction's memo where there is one). */
  movementId: string;
  kind: string;
  walletId: string | undefined;
  callId?: string;
  /** The ledger account paying the network fee. */
  payer: string;
  /** SOL the transaction itself moves from the payer (a SOL transfer), beside its cost. */
  lamportsSent?: bigint;
  /** The movement's postings other than the chain cost, which is only known once it landed. */
  postings: Posting[];
  details?: Record<string, unknown>;
}

/** Writes a signed transaction down before it is sent (again, for a resend of the same bytes). */
export async function journalTransaction(
  db: Kysely<Database>,
  signature: string,
  planned: PlannedMovement,
): Promise<void> {
  const postings = planned.postings.map((p) => ({
    account: p.account,
    asset: p.asset,
    amount: p.amount.toString(),
  }));
  // The very same bytes again (a retry on the same blockhash) after they were dropped: in doubt again.
  await prepared(sql`
    insert into chain_intent
      (signature, movement_id, kind, wallet_id, call_id, payer, lamports_sent, postings, details)
    values (${signature}, ${planned.movementId}, ${planned.kind}, ${planned.walletId ?? null},
      ${planned.callId ?? null}, ${planned.payer}, ${(planned.lamportsSent ?? 0n).toString()},
      ${JSON.stringify(postings)}, ${JSON.stringify(planned.details ?? {})})
    on conflict (signature) do update set status = 'pending', resolved_at = null
      where chain_intent.status = 'dropped'`).execute(db);
}

/** A journal entry as it was written, pending or not; undefined when there is none. */
export async function journalEntry(
  db: Kysely<Database>,
  signature: string,
): Promise<PlannedMovement | undefined> {
  const entry = await db
    .selectFrom('chain_intent')
    .select(['movement_id', 'kind', 'wallet_id', 'call_id', 'payer', 'lamports_sent', 'postings', 'details'])
    .where('signature', '=', signature)
    .executeTakeFirst();
  if (!entry) return undefined;
  return {
    movementId: entry.movement_id,
    kind: entry.kind,
    walletId: entry.wallet_id ?? undefined,
    ...(entry.call_id ? { callId: entry.call_id } : {}),
    payer: entry.payer,
    lamportsSent: toBigInt(entry.lamports_sent),
    postings: entry.postings.map((p) => ({ account: p.account, asset: p.asset, amount: BigInt(p.amount) })),
    details: entry.details,
  };
}

/**
 * A journaled transaction that landed and succeeded, booked: the CTEs `booked` (the entry closed,
 * if it was still pending), `movement` and `posting` (its postings with the exact chain cost). The
 * statement must select `assertBooked`, so that nothing is written twice or for a closed entry.
 */
export function bookingWrites(
  signature: string,
  planned: PlannedMovement,
  lamportsSpent: bigint,
): RawBuilder<unknown> {
  const movement = movementWrites({
    id: planned.movementId,
    kind: planned.kind,
    ...(planned.walletId ? { walletId: planned.walletId } : {}),
    chainSignature: signature,
    postings: [
      ...planned.postings,
      ...chainCostPostings(planned.payer, lamportsSpent, planned.lamportsSent ?? 0n),
    ],
    ...(planned.details ? { details: planned.details } : {}),
  });
  return sql`
    booked as (
      update chain_intent set status = 'booked', resolved_at = now()
      where signature = ${signature} and status = 'pending'
      returning signature),
    ${movement}`;
}

export const assertBooked = (signature: string) =>
  sql<boolean>`tdk_assert(exists (select from booked), ${`no pending journal entry for transaction ${signature}`})`;

/** Books a journaled transaction that landed and succeeded (see `bookingWrites`); returns the movement id. */
export async function bookTransaction(
  db: Kysely<Database>,
  signature: string,
  lamportsSpent: bigint,
): Promise<string> {
  const planned = await journalEntry(db, signature);
  if (!planned) throw new Error(`no journal entry for transaction ${signature}`);
  await sql`with ${bookingWrites(signature, planned, lamportsSpent)} select ${assertBooked(signature)}`.execute(
    db,
  );
  return planned.movementId;
}

/**
 * Closes a journaled transaction that did not move what it planned: it never landed (nothing to
 * book), or it landed and failed, and then its fee is booked so the ledger agrees with the chain.
 */
export async function dropTransaction(
  db: Kysely<Database>,
  signature: string,
  failedFee: bigint | undefined,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const intent = await trx
      .updateTable('chain_intent')
      .set({ status: 'dropped', resolved_at: sql`now()` })
      .where('signature', '=', signature)
      .where('status', '=', 'pending')
      .returning(['payer'])
      .executeTakeFirst();
    if (!intent || !failedFee) return;
    await recordMovement(trx, {
      kind: 'failed_transaction_fee',
      chainSignature: signature,
      postings: chainCostPostings(intent.payer, failedFee),
    });
  });
}

/**
 * Settles a send that threw: a transaction that surely moved nothing is dropped (a landed failure
 * with its fee booked); one that may still land (sent, outcome unknown) stays for recovery.
 */
/** Sent (or handed to a platform that sends it), and the chain has not said whether it landed: it may still. */
export const inDoubt = (error: ChainError): boolean =>
  error.signature !== undefined && error.lamportsSpent === undefined && error.code !== 'expired';

export async function settleFailedSend(
  db: Kysely<Database>,
  signature: string | undefined,
  error: ChainError,
): Promise<'dropped' | 'unknown'> {
  if (!signature) return 'dropped';
  if (inDoubt(error)) return 'unknown';
  await dropTransaction(db, signature, error.lamportsSpent);
  return 'dropped';
}
