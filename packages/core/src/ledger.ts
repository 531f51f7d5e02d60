/**
 * The double-entry ledger's rules. Every movement of money is a set of postings that sum to zero per
 * asset: what leaves one account arrives in others. Amounts are integers in base units.
 */
export type Asset = 'usdc' | 'sol';

export interface Posting {
  account: string;
  asset: Asset;
  /** Positive: into the account. Negative: out of it. Never zero. */
  amount: bigint;
}

/** Ledger account names. A held wallet's account mirrors its on-chain balances. */
export const ledgerAccount = {
  wallet: (walletId: string) => `wallet:${walletId}`,
  /** Network fees and rent of accounts a transaction created: SOL that left our wallets for the chain. */
  solanaCosts: 'external:solana_costs',
  /** Where the embedded chain's seed money comes from (its faucet and local mint). */
  embeddedFaucet: 'external:embedded_faucet',
  agentOwner: (publicKey: string) => `external:agent_owner:${publicKey}`,
  protocol: (publicKey: string) => `external:protocol:${publicKey}`,
} as const;

/** `amount` of `asset` from one account to another. */
export function transferPostings(from: string, to: string, asset: Asset, amount: bigint): Posting[] {
  if (amount <= 0n) throw new RangeError(`a transfer moves a positive amount, got ${amount}`);
  return [
    { account: from, asset, amount: -amount },
    { account: to, asset, amount },
  ];
}

/** What the fee payer spent on the chain itself, beyond what it sent on purpose. */
export function chainCostPostings(payer: string, lamportsSpent: bigint, lamportsSent = 0n): Posting[] {
  const cost = lamportsSpent - lamportsSent;
  if (cost < 0n) throw new RangeError('the payer cannot spend less than it sent');
  return cost === 0n ? [] : transferPostings(payer, ledgerAccount.solanaCosts, 'sol', cost);
}

export class UnbalancedLedgerError extends Error {
  override readonly name = 'UnbalancedLedgerError';
}

/** Refuses postings that would not balance: the guard every ledger write passes. */
export function assertBalanced(postings: Posting[]): void {
  if (postings.length === 0) throw new UnbalancedLedgerError('a movement needs postings');
  const sums = new Map<Asset, bigint>();
  for (const p of postings) {
    if (p.amount === 0n) throw new UnbalancedLedgerError(`zero posting to ${p.account}`);
    sums.set(p.asset, (sums.get(p.asset) ?? 0n) + p.amount);
  }
  for (const [asset, sum] of sums) {
    if (sum !== 0n) throw new UnbalancedLedgerError(`${asset} postings sum to ${sum}, not 0`);
  }
}

/** How much to send so that `balance` reaches `target`, when it is under `below`; 0 when it is not. */
export function topUpAmount(balance: bigint, rule: { below: bigint; to: bigint }): bigint {
  return balance < rule.below ? rule.to - balance : 0n;
}
