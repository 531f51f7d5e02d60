import { createWallet, signerOf, walletOfKind } from '@tdk/api';
import { createEmbeddedChain, createRpcChain, type EmbeddedChain, generateKeypair } from '@tdk/chain';
import type { Keyring, Signer, SolanaPort } from '@tdk/core';
import { createChainSnapshotStore, type DatabaseHandle } from '@tdk/db';
import type { ChainConfig } from './config';

/**
 * The Solana adapter the configuration asks for. The embedded chain keeps its mint keypairs in the
 * wallet table (sealed like every other secret) and its accounts in the database, so a restart finds
 * the same chain.
 */
export async function createChain(
  config: ChainConfig,
  database: DatabaseHandle,
  vault: Keyring,
): Promise<SolanaPort | EmbeddedChain> {
  if (config.kind === 'rpc') {
    return createRpcChain({
      url: config.url,
      network: config.network,
      ...(config.usdcMint ? { usdcMint: config.usdcMint } : {}),
      ...(config.priorityFeeMicroLamports > 0
        ? {
            priorityFee: {
              microLamportsPerUnit: BigInt(config.priorityFeeMicroLamports),
              computeUnitLimit: 200_000,
            },
          }
        : {}),
    });
  }
  const services = { vault, newKeypair: generateKeypair };
  const keypairOf = async (kind: 'mint' | 'mint_authority'): Promise<Signer> => {
    const wallet =
      (await walletOfKind(database.db, kind)) ?? (await createWallet(database.db, services, { kind }));
    return signerOf(services, wallet);
  };
  return createEmbeddedChain({
    mint: { mint: await keypairOf('mint'), authority: await keypairOf('mint_authority') },
    snapshotStore: createChainSnapshotStore(database.db),
  });
}

export const isEmbeddedChain = (chain: SolanaPort): chain is EmbeddedChain => chain.network === 'embedded';
