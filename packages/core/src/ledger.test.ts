import { describe, expect, it } from 'vitest';
import { assertBalanced, chainCostPostings, ledgerAccount, topUpAmount, transferPostings } from './ledger';

describe('ledger rules', () => {
  it('a transfer balances; a lopsided set does not', () => {
    expect(() => assertBalanced(transferPostings('a', 'b', 'usdc', 5n))).not.toThrow();
    expect(() =>
      assertBalanced([
        { account: 'a', asset: 'usdc', amount: -5n },
        { account: 'b', asset: 'usdc', amount: 4n },
      ]),
    ).toThrow(/sum to -1/);
    expect(() => assertBalanced([])).toThrow();
    expect(() => transferPostings('a', 'b', 'sol', 0n)).toThrow(RangeError);
  });

  it('balances per asset, not across assets', () => {
    expect(() =>
      assertBalanced([
        { account: 'a', asset: 'usdc', amount: -5n },
        { account: 'b', asset: 'sol', amount: 5n },
      ]),
    ).toThrow();
  });

  it('books what a payer spent beyond what it sent as chain costs', () => {
    expect(chainCostPostings('wallet:w', 5_000n + 2_039_280n)).toEqual(
      transferPostings('wallet:w', ledgerAccount.solanaCosts, 'sol', 2_044_280n),
    );
    expect(chainCostPostings('wallet:w', 1_005_000n, 1_000_000n)).toEqual(
      transferPostings('wallet:w', ledgerAccount.solanaCosts, 'sol', 5_000n),
    );
    expect(chainCostPostings('wallet:w', 0n)).toEqual([]);
  });

  it('tops up to the target only when under the threshold', () => {
    const rule = { below: 5_000_000n, to: 10_000_000n };
    expect(topUpAmount(4_999_999n, rule)).toBe(5_000_001n);
    expect(topUpAmount(5_000_000n, rule)).toBe(0n);
  });
});
