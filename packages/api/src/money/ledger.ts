import { type Asset, assertBalanced, newId, type Posting } from '@tdk/core';
import { type Database, toBigInt } from '@tdk/db';
import { type Kysely, type RawBuilder, sql } from 'kysely';

export interface MovementRecord {
  /** Chosen before the chain transaction when it doubles as the transaction's memo. */
  id?: string;
  /** What happened, e.g. `wallet_funding`, `top_up`, `agent_payment`. */
  kind: string;
  walletId?: string;
  chainSignature?: string;
  postings: Posting[];
  details?: Record<string, unknown>;
}

/** Writes one balanced movement. Call inside the transaction that makes the change it records. */
export async function recordMovement(db: Kysely<Database>, movement: MovementRecord): Promise<string> {
  const id = movement.id ?? newId('movement');
  await sql`with ${movementWrites({ ...movement, id })} select true`.execute(db);
  return id;
}

/**
 * A balanced movement and its postings as the CTEs `movement` and `posting` of one statement: they
 * land together (the postings' foreign key is checked at the statement's end), with whatever else
 * the statement writes.
 */
export function movementWrites(movement: MovementRecord & { id: string }): RawBuilder<unknown> {
  assertBalanced(movement.postings);
  const postings = movement.postings.map(
    (p) => sql`(${movement.id}, ${p.account}, ${p.asset}, ${p.amount.toString()})`,
  );
  return sql`
    movement as (
      insert into ledger_movement (id, kind, wallet_id, chain_signature, details)
      values (${movement.id}, ${movement.kind}, ${movement.walletId ?? null}, ${movement.chainSignature ?? null},
        ${JSON.stringify(movement.details ?? {})})),
    posting as (
      insert into ledger_posting (movement_id, account, asset, amount) values ${sql.join(postings)})`;
}

export type LedgerBalances = Record<Asset, bigint>;

/** Ledger balances of the given accounts (zero for accounts without postings). */
export async function ledgerBalances(
  db: Kysely<Database>,
  accounts: string[],
): Promise<Map<string, LedgerBalances>> {
  const result = new Map(accounts.map((a) => [a, { usdc: 0n, sol: 0n }]));
  if (accounts.length === 0) return result;
  const rows = await db
    .selectFrom('ledger_posting')
    .select(['account', 'asset', (eb) => eb.cast<string>(eb.fn.sum('amount'), 'text').as('balance')])
    .where('account', 'in', accounts)
    .groupBy(['account', 'asset'])
    .execute();
  for (const row of rows) {
    const balances = result.get(row.account);
    if (balances) balances[row.asset] = toBigInt(row.balance);
  }
  return result;
}
