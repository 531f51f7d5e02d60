import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, SendTransactionError, type SignatureStatus } from '@solana/web3.js';
import { ChainError, type Movement, type SolanaNetwork, type SolanaPort } from '@tdk/core';
import { transactionFailed } from '../errors';
import { type ChainBackend, createPort, payerDrop } from '../port';
import { MAINNET_USDC_MINT, type PriorityFee, type SignedTransaction } from '../transactions';

export interface RpcChainOptions {
  url: string;
  network: Exclude<SolanaNetwork, 'embedded'>;
  /** Mainnet USDC on mainnet-beta unless given; required on the other networks. */
  usdcMint?: string;
  /** Paid on every transaction: limit × price, e.g. `{ microLamportsPerUnit: 1000n, computeUnitLimit: 200_000 }`. */
  priorityFee?: PriorityFee;
  /** How often a sent transaction's status is checked. Default 500 ms. */
  pollIntervalMs?: number;
  /** How often the same signed bytes are sent again while unconfirmed. Default 2,000 ms. */
  resendIntervalMs?: number;
  /** Per RPC request. Default 10,000 ms. */
  requestTimeoutMs?: number;
}

/** The Solana port over JSON-RPC (@solana/web3.js 1.x), at `confirmed` commitment. */
export function createRpcChain(options: RpcChainOptions): SolanaPort {
  const usdcMint = options.usdcMint ?? (options.network === 'mainnet-beta' ? MAINNET_USDC_MINT : undefined);
  if (!usdcMint) throw new TypeError(`usdcMint is required on ${options.network}`);
  const pollMs = options.pollIntervalMs ?? 500;
  const resendMs = options.resendIntervalMs ?? 2_000;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const connection = new Connection(options.url, {
    commitment: 'confirmed',
    httpAgent: false,
    fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
  });

  /** Every RPC call goes through here, so any failure to get an answer is a typed error. */
  async function ask<T>(method: string, request: () => Promise<T>, signature?: string): Promise<T> {
    try {
      return await request();
    } catch (cause) {
      const code = cause instanceof SendTransactionError ? 'rejected' : 'unreachable';
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new ChainError(code, `Solana RPC ${method} failed: ${reason}`, { cause, signature });
    }
  }

  async function status(
    signature: string,
    searchTransactionHistory = false,
  ): Promise<SignatureStatus | null> {
    const { value } = await ask(
      'getSignatureStatuses',
      () => connection.getSignatureStatuses([signature], { searchTransactionHistory }),
      signature,
    );
    const found = value[0] ?? null;
    // `processed` can still be rolled back: only `confirmed` and `finalized` count.
    return found?.confirmationStatus === 'processed' ? null : found;
  }

  /** The movement once the transaction is confirmed, undefined before; throws if it landed and failed. */
  async function outcome({ signature, transaction }: SignedTransaction): Promise<Movement | undefined> {
    const confirmed = await status(signature);
    if (!confirmed) return undefined;
    const movement = { signature, lamportsSpent: await lamportsSpentOf(signature) };
    if (confirmed.err) throw transactionFailed(confirmed.err, transaction, movement);
    return movement;
  }

  /** From the transaction's own balances, so it is exact whatever else the payer does meanwhile. */
  async function lamportsSpentOf(signature: string): Promise<bigint> {
    // Some nodes serve a transaction a moment after reporting its status.
    for (let attempt = 0; attempt < 10; attempt++) {
      const landed = await ask(
        'getTransaction',
        () =>
          connection.getTransaction(signature, {
            commitment: 'confirmed',
            maxSupportedTransactionVersion: 0,
          }),
        signature,
      );
      if (landed?.meta) return payerDrop(landed.meta.preBalances, landed.meta.postBalances);
      await sleep(pollMs);
    }
    throw new ChainError('unreachable', `the RPC does not return transaction ${signature}`, { signature });
  }

  const backend: ChainBackend = {
    latestBlockhash: () => ask('getLatestBlockhash', () => connection.getLatestBlockhash()),

    async submit(signed, lastValidBlockHeight) {
      const { signature, transaction, bytes } = signed;
      // Simulating first means a refused transaction costs nothing, and its error comes back
      // structured (a failed sendTransaction preflight reaches web3.js as text only).
      const { value: simulation } = await ask('simulateTransaction', () =>
        connection.simulateTransaction(transaction, { sigVerify: false }),
      );
      if (simulation.err) throw transactionFailed(simulation.err, transaction);

      const send = () =>
        ask(
          'sendTransaction',
          () => connection.sendRawTransaction(bytes, { skipPreflight: true, maxRetries: 0 }),
          signature,
        );
      await send();
      let sentAt = Date.now();
      // Never re-sign (that would be a second transaction): resend the same bytes until the
      // transaction is confirmed or its blockhash has expired, after which it can never land.
      for (;;) {
        await sleep(pollMs);
        const movement = await outcome(signed);
        if (movement) return movement;
        const height = await ask('getBlockHeight', () => connection.getBlockHeight(), signature);
        if (height > lastValidBlockHeight) {
          const lastLook = await outcome(signed);
          if (lastLook) return lastLook;
          throw new ChainError('expired', `not confirmed before block height ${lastValidBlockHeight}`, {
            signature,
          });
        }
        if (Date.now() - sentAt >= resendMs) {
          await send();
          sentAt = Date.now();
        }
      }
    },

    async accounts(addresses) {
      const accounts = await ask('getMultipleAccounts', () => connection.getMultipleAccountsInfo(addresses));
      return accounts.map((account) => account && { lamports: BigInt(account.lamports), data: account.data });
    },

    lamportsSpentOf,

    async transactionStatus(signature) {
      const found = await status(signature, true);
      if (!found) return 'unknown';
      return found.err ? 'failed' : 'confirmed';
    },

    async ping() {
      await ask('getSlot', () => connection.getSlot());
    },
  };

  return createPort(backend, { network: options.network, usdcMint, priorityFee: options.priorityFee });
}
