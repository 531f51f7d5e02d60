import {
  AppError,
  type Asset,
  isChainError,
  ledgerAccount,
  type Movement,
  newId,
  topUpAmount,
  transferPostings,
} from '@tdk/core';
import type { Database } from '@tdk/db';
import { enqueueJob } from '@tdk/jobs';
import { type Kysely, sql } from 'kysely';
import type { Services } from '../services';
import { bookTransaction, journalTransaction, type PlannedMovement, settleFailedSend } from './journal';
import { type LedgerBalances, ledgerBalances } from './ledger';
import { checkTreasuryFloat, treasurySigner } from './treasury';
import type { WalletRow } from './wallets';

type Amounts = { usdc: bigint; lamports: bigint };

/** A claim left by a process that died mid top-up stops blocking top-ups after this long. */
const staleTopUpClaim = '5 minutes';

/** The transfers that fund a wallet from the treasury. */
const fundingKinds = ['wallet_funding', 'top_up'] as const;
type FundingKind = (typeof fundingKinds)[number];

/**
 * Whether transfers funding a wallet were sent and are not settled yet. The wallet's own payments
 * in flight do not count: a call between its payment and its record must not keep a funding claim
 * held (a wallet left claimed is not refilled until the claim goes stale).
 */
async function hasUnsettledFunding(db: Kysely<Database>, walletId: string): Promise<boolean> {
  return (await unsettledFunding(db, walletId).executeTakeFirst()) !== undefined;
}

const unsettledFunding = (db: Kysely<Database>, walletId: string) =>
  db
    .selectFrom('chain_intent')
    .select('signature')
    .where('wallet_id', '=', walletId)
    .where('kind', 'in', fundingKinds)
    .where('status', '=', 'pending');

/**
 * Sends `amounts` from the treasury to a wallet and books each chain transaction as it lands, each
 * written in the chain journal before it is sent. Runs outside any database transaction (the
 * embedded chain writes its own state to the database, and a chain call must never hold a lock
 * others wait on); callers hold a claim on the wallet instead.
 */
async function sendFromTreasury(
  services: Services,
  wallet: WalletRow,
  amounts: Amounts,
  kind: FundingKind,
): Promise<void> {
  const { wallet: treasury, signer } = await treasurySigner(services);
  const from = ledgerAccount.wallet(treasury.id);
  const to = ledgerAccount.wallet(wallet.id);
  const transfers: Array<{
    asset: Asset;
    amount: bigint;
    send: (memo: string, beforeSend: (signature: string) => Promise<void>) => Promise<Movement>;
  }> = [
    {
      asset: 'usdc',
      amount: amounts.usdc,
      send: (memo, beforeSend) =>
        services.chain.transferUsdc({
          from: signer,
          transfers: [{ to: wallet.public_key, amount: amounts.usdc }],
          memo,
          beforeSend,
        }),
    },
    {
      asset: 'sol',
      amount: amounts.lamports,
      send: (memo, beforeSend) =>
        services.chain.transferSol({
          from: signer,
          to: wallet.public_key,
          lamports: amounts.lamports,
          memo,
          beforeSend,
        }),
    },
  ];
  for (const transfer of transfers.filter((t) => t.amount > 0n)) {
    // The movement id is the memo: it makes each transaction unique and ties chain to ledger.
    const planned: PlannedMovement = {
      movementId: newId('movement'),
      kind,
      walletId: wallet.id,
      payer: from,
      lamportsSent: transfer.asset === 'sol' ? transfer.amount : 0n,
      postings: transferPostings(from, to, transfer.asset, transfer.amount),
    };
    let signature: string | undefined;
    let moved: Movement;
    try {
      moved = await transfer.send(planned.movementId, async (signed) => {
        signature = signed;
        await journalTransaction(services.db, signed, planned);
      });
    } catch (error) {
      if (!isChainError(error)) throw error;
      await settleFailedSend(services.db, signature, error);
      await services.alerts.raise({
        kind: 'top_up_failed',
        severity: 'critical',
        message: `The treasury could not send ${kind === 'top_up' ? 'a top-up' : 'initial funding'}: ${error.code}.`,
        details: { wallet_id: wallet.id, code: error.code, asset: error.asset ?? transfer.asset },
      });
      throw new AppError('service_unavailable', 'Funding the wallet failed; try again shortly.', {
        cause: error,
      });
    }
    await bookTransaction(services.db, moved.signature, moved.lamportsSpent);
  }
  await checkTreasuryFloat(services, treasury);
}

/**
 * Gives a new dedicated wallet its tier's initial funding, exactly once however often and however
 * concurrently it is asked: the first caller claims the wallet atomically, the others return false.
 */
export async function fundNewWallet(services: Services, walletId: string): Promise<boolean> {
  const claimed = await services.db
    .updateTable('wallet')
    .set({ funding_claimed_at: new Date() })
    .where('id', '=', walletId)
    .where('funded_at', 'is', null)
    .where('funding_claimed_at', 'is', null)
    .where('tier', 'is not', null)
    .returningAll()
    .executeTakeFirst();
  if (!claimed?.tier) return false;
  try {
    // A retry after a partial failure sends only what the earlier attempt did not.
    const initial = services.tiers[claimed.tier].initialFunding;
    const sent = await fundingSent(services.db, claimed.id);
    await sendFromTreasury(
      services,
      claimed,
      { usdc: initial.usdc - sent.usdc, lamports: initial.lamports - sent.sol },
      'wallet_funding',
    );
  } catch (error) {
    // What was sent is booked: release the claim so the rest can be retried — unless a transfer's
    // outcome is unknown; recovery settles it and releases the claim then.
    if (!(await hasUnsettledFunding(services.db, walletId))) await releaseFundingClaim(services.db, walletId);
    throw error;
  }
  await services.db.updateTable('wallet').set({ funded_at: new Date() }).where('id', '=', walletId).execute();
  return true;
}

/** Lets initial funding be tried again (what was sent is booked; the rest will be sent). */
export async function releaseFundingClaim(db: Kysely<Database>, walletId: string): Promise<void> {
  await db
    .updateTable('wallet')
    .set({ funding_claimed_at: null })
    .where('id', '=', walletId)
    .where('funded_at', 'is', null)
    .execute();
}

async function fundingSent(db: Kysely<Database>, walletId: string): Promise<Record<Asset, bigint>> {
  const rows = await db
    .selectFrom('ledger_posting')
    .innerJoin('ledger_movement', 'ledger_movement.id', 'ledger_posting.movement_id')
    .select([
      'ledger_posting.asset',
      (eb) => eb.cast<string>(eb.fn.sum('ledger_posting.amount'), 'text').as('total'),
    ])
    .where('ledger_movement.kind', '=', 'wallet_funding')
    .where('ledger_movement.wallet_id', '=', walletId)
    .where('ledger_posting.account', '=', ledgerAccount.wallet(walletId))
    .groupBy('ledger_posting.asset')
    .execute();
  const sent = { usdc: 0n, sol: 0n };
  for (const row of rows) sent[row.asset] = BigInt(row.total);
  return sent;
}

/** What a top-up sent; zero when none was needed (or another request is already doing it). */
export type TopUp = Amounts;

/**
 * Refills a dedicated wallet from the treasury when it is under its tier's thresholds, exactly once
 * when many requests notice together: one claims the wallet atomically and re-reads the balance; the
 * others go on at once without waiting.
 */
export async function topUpIfLow(services: Services, wallet: WalletRow): Promise<TopUp> {
  const none = { usdc: 0n, lamports: 0n };
  if (!wallet.tier) return none;
  const rules = services.tiers[wallet.tier];
  const needs = (b: LedgerBalances) => ({
    usdc: topUpAmount(b.usdc, rules.usdcTopUp),
    lamports: topUpAmount(b.sol, rules.solTopUp),
  });
  const isNone = (a: Amounts) => a.usdc === 0n && a.lamports === 0n;
  if (isNone(needs(await walletBalance(services.db, wallet.id)))) return none;

  const claimed = await services.db
    .updateTable('wallet')
    .set({ top_up_claimed_at: new Date() })
    .where('id', '=', wallet.id)
    // Not before its initial funding landed: the two would both fill the same shortfall.
    .where('funded_at', 'is not', null)
    .where((eb) =>
      eb.or([
        eb('top_up_claimed_at', 'is', null),
        // A stale claim is taken over only once nothing it sent is in doubt: a transfer that may
        // still land is not in the ledger's balance yet, and would be sent twice.
        eb.and([
          eb('top_up_claimed_at', '<', sql<Date>`now() - ${sql.lit(staleTopUpClaim)}::interval`),
          eb.not(eb.exists(unsettledFunding(services.db, wallet.id))),
        ]),
      ]),
    )
    .returningAll()
    .executeTakeFirst();
  if (!claimed) return none;
  try {
    const amounts = needs(await walletBalance(services.db, wallet.id));
    if (!isNone(amounts)) await sendFromTreasury(services, claimed, amounts, 'top_up');
    return amounts;
  } finally {
    // Held while a transfer's outcome is unknown: recovery settles it; the claim goes stale after that.
    if (!(await hasUnsettledFunding(services.db, wallet.id))) {
      await services.db
        .updateTable('wallet')
        .set({ top_up_claimed_at: null })
        .where('id', '=', wallet.id)
        .execute();
    }
  }
}

/** When another request (or the background refill) is topping the wallet up, waits for it to finish (at most `timeoutMs`). */
export async function waitForRefill(
  db: Kysely<Database>,
  walletId: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { top_up_claimed_at } = await db
      .selectFrom('wallet')
      .select('top_up_claimed_at')
      .where('id', '=', walletId)
      .executeTakeFirstOrThrow();
    if (!top_up_claimed_at || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A wallet's balance as top-ups judge it: the ledger's, less what its payments in flight send out
 * (journaled and not booked yet: they may have landed already, and a call books its payment only
 * once its agent has answered). Money in flight towards it is not counted until it is booked.
 */
export async function walletBalance(db: Kysely<Database>, walletId: string): Promise<Record<Asset, bigint>> {
  const account = ledgerAccount.wallet(walletId);
  const balance = (await ledgerBalances(db, [account])).get(account) ?? { usdc: 0n, sol: 0n };
  const { rows } = await sql<{ asset: Asset; amount: string }>`
    select p->>'asset' as asset, sum((p->>'amount')::numeric)::text as amount
    from chain_intent i cross join jsonb_array_elements(i.postings) p
    where i.wallet_id = ${walletId} and i.status = 'pending'
      and p->>'account' = ${account} and (p->>'amount')::numeric < 0
    group by 1`.execute(db);
  for (const row of rows) balance[row.asset] += BigInt(row.amount);
  return balance;
}

export const moneyJobs = {
  /** Initial funding of a wallet whose funding failed at key creation. */
  fundWallet: 'wallet.fund',
  /** A refill from the treasury when the wallet is under its tier's threshold. */
  topUp: 'wallet.top_up',
  /** Ledger vs chain, alerting on any difference; recurring. */
  reconcile: 'money.reconcile',
  /** Settles what a process sent and did not live to book (calls, funding, top-ups); recurring. */
  recover: 'money.recover',
} as const;

/** When each wallet was last handed to the job runner for a refill check, in this process. */
const lastRefillCheck = new Map<string, number>();

/**
 * Has a wallet refilled in the background when it runs low: a job (at most one waiting per wallet,
 * and asked for at most once per `minIntervalMs` by this process), so paying never waits for it and
 * a refill survives a restart. Failures alert inside `topUpIfLow` and retry with backoff.
 */
export function refillSoon(services: Services, wallet: WalletRow, minIntervalMs = 1_000): void {
  const now = Date.now();
  if (now - (lastRefillCheck.get(wallet.id) ?? 0) < minIntervalMs) return;
  if (lastRefillCheck.size >= 100_000) lastRefillCheck.clear();
  lastRefillCheck.set(wallet.id, now);
  enqueueJob(services.db, {
    kind: moneyJobs.topUp,
    payload: { wallet_id: wallet.id },
    uniqueKey: `${moneyJobs.topUp}:${wallet.id}`,
  })
    .then(({ created }) => created && services.jobs.wake())
    .catch(() => undefined);
}

/** Retries a wallet's initial funding in the background (the first call also funds it first). */
export async function fundLater(services: Services, walletId: string): Promise<void> {
  await enqueueJob(services.db, {
    kind: moneyJobs.fundWallet,
    payload: { wallet_id: walletId },
    uniqueKey: `${moneyJobs.fundWallet}:${walletId}`,
  });
}
