import { ChainError, type SolanaPort } from '@tdk/core';
import { transactionFailed } from '../errors';
import { toPublicKey } from '../keys';
import { type ChainBackend, createPort, payerDrop } from '../port';
import { LocalRuntime, type RuntimeOptions } from './runtime';

export type EmbeddedChainOptions = RuntimeOptions;

export interface EmbeddedChain extends SolanaPort {
  readonly network: 'embedded';
  /** Embedded only: airdrops SOL and mints USDC to `owner`, e.g. to seed the treasury. */
  fund(owner: string, amounts: { lamports?: bigint; usdc?: bigint }): Promise<void>;
}

/** The Solana port on LiteSVM in this process, with a local USDC-like mint. */
export async function createEmbeddedChain(options: EmbeddedChainOptions = {}): Promise<EmbeddedChain> {
  return embeddedChainOn(await LocalRuntime.create(options));
}

/** The embedded adapter on a given runtime (the local RPC server serves the same one). */
export function embeddedChainOn(runtime: LocalRuntime): EmbeddedChain {
  const backend: ChainBackend = {
    latestBlockhash: async () => runtime.latestBlockhash(),
    async submit(signed) {
      const { signature, transaction } = signed;
      // Sending runs the transaction synchronously: the balances around it are exact.
      const outcome = await runtime.submit(signed, { preflight: true });
      if (!outcome.landed) throw transactionFailed(outcome.err, transaction);
      const { err, preBalances, postBalances } = outcome.record;
      const movement = { signature, lamportsSpent: payerDrop(preBalances, postBalances) };
      if (err !== null) throw transactionFailed(err, transaction, movement);
      return movement;
    },
    accounts: async (addresses) => addresses.map((address) => runtime.account(address)),
    async lamportsSpentOf(signature) {
      const landed = await runtime.landed(signature);
      if (!landed)
        throw new ChainError('unreachable', `the chain does not know transaction ${signature}`, {
          signature,
        });
      return landed.lamportsSpent;
    },
    async transactionStatus(signature) {
      const landed = await runtime.landed(signature);
      if (!landed) return 'unknown';
      return landed.failed ? 'failed' : 'confirmed';
    },
    ping: async () => undefined,
  };
  return {
    ...createPort(backend, { network: 'embedded', usdcMint: runtime.usdcMint.toBase58() }),
    network: 'embedded',
    async fund(owner, { lamports, usdc }) {
      const wallet = toPublicKey(owner, 'owner');
      if (lamports) await runtime.airdrop(wallet, lamports);
      if (usdc) await runtime.mintUsdc(wallet, usdc);
    },
  };
}
