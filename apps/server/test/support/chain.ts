import { recordMovement, walletOfKind } from '@tdk/api';
import type { LocalRpcServer } from '@tdk/chain';
import { ledgerAccount, transferPostings } from '@tdk/core';
import type { Database } from '@tdk/db';
import type { Kysely } from 'kysely';

/** What TDK needs to run on the local RPC server's chain (the RPC adapter, as on devnet), perhaps through a proxy. */
export const rpcChainEnv = (rpc: LocalRpcServer, url = rpc.url) => ({
  SOLANA_RPC_URL: url,
  SOLANA_NETWORK: 'localnet',
  SOLANA_USDC_MINT: rpc.chain.usdcMint,
  TDK_EXAMPLE_AGENTS: 'true',
});

/**
 * Funds the treasury from the local faucet and books it, as the embedded chain books its seed, so
 * the reconciliation starts from ledger = chain.
 */
export async function fundTreasury(db: Kysely<Database>, rpc: LocalRpcServer): Promise<void> {
  const treasury = await walletOfKind(db, 'treasury');
  if (!treasury) throw new Error('no treasury yet: start a server first');
  const seed = { usdc: 1_000_000_000n, lamports: 10_000_000_000n };
  await rpc.chain.fund(treasury.public_key, seed);
  const account = ledgerAccount.wallet(treasury.id);
  await recordMovement(db, {
    kind: 'treasury_seeded',
    walletId: treasury.id,
    postings: [
      ...transferPostings(ledgerAccount.embeddedFaucet, account, 'usdc', seed.usdc),
      ...transferPostings(ledgerAccount.embeddedFaucet, account, 'sol', seed.lamports),
    ],
  });
}
