import { type Asset, ledgerAccount } from '@tdk/core';
import type { Services } from '../services';
import { ledgerBalances } from './ledger';

export interface BalanceDifference {
  wallet_id: string;
  kind: string;
  address: string;
  asset: Asset;
  ledger: string;
  chain: string;
  /** chain − ledger. */
  difference: string;
}

export interface ReconciliationReport {
  checked_wallets: number;
  differences: BalanceDifference[];
}

/**
 * Compares the ledger's balance of every wallet TDK holds with the chain's, to the unit, and lists
 * each difference. Wallets are read in pages so the report scales with the number of keys.
 */
export async function reconcileBalances(services: Services, pageSize = 200): Promise<ReconciliationReport> {
  const differences: BalanceDifference[] = [];
  let checked = 0;
  let after = '';
  for (;;) {
    const wallets = await services.db
      .selectFrom('wallet')
      .select(['id', 'kind', 'public_key'])
      .where('kind', 'in', ['treasury', 'dedicated'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(pageSize)
      .execute();
    if (wallets.length === 0) break;
    const ledger = await ledgerBalances(
      services.db,
      wallets.map((w) => ledgerAccount.wallet(w.id)),
    );
    const chain = await Promise.all(wallets.map((w) => services.chain.balances(w.public_key)));
    wallets.forEach((wallet, i) => {
      const onChain = chain[i]!;
      const booked = ledger.get(ledgerAccount.wallet(wallet.id)) ?? { usdc: 0n, sol: 0n };
      const pairs: Array<[Asset, bigint, bigint]> = [
        ['usdc', booked.usdc, onChain.usdc],
        ['sol', booked.sol, onChain.lamports],
      ];
      for (const [asset, ledgerAmount, chainAmount] of pairs) {
        if (ledgerAmount !== chainAmount) {
          differences.push({
            wallet_id: wallet.id,
            kind: wallet.kind,
            address: wallet.public_key,
            asset,
            ledger: ledgerAmount.toString(),
            chain: chainAmount.toString(),
            difference: (chainAmount - ledgerAmount).toString(),
          });
        }
      }
    });
    checked += wallets.length;
    after = wallets.at(-1)!.id;
  }
  return { checked_wallets: checked, differences };
}
