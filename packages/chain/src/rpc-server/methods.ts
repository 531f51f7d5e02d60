import { PublicKey, VersionedTransaction } from '@solana/web3.js';
import type { ChainAccount } from '@tdk/core';
import bs58 from 'bs58';
import type { LandedTransaction, LocalRuntime } from '../embedded/runtime';
import { signedTransaction } from '../transactions';

/** A JSON-RPC error answer. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export interface Hooks {
  /** sendTransaction calls still to acknowledge and drop. */
  drops: number;
  confirmationDelayMs: number;
}

type Method = (params: unknown[]) => unknown;

/**
 * The Solana JSON-RPC methods the RPC adapter uses, with the real names and answer shapes, on the
 * local runtime. Amounts become JSON numbers, as Solana's RPC sends them.
 */
export function rpcMethods(runtime: LocalRuntime, hooks: Hooks): Record<string, Method> {
  /** When each transaction that landed under a confirmation delay becomes `confirmed`. */
  const confirmsAt = new Map<string, number>();
  const isConfirmed = (signature: string) => (confirmsAt.get(signature) ?? 0) <= Date.now();
  const withContext = (value: unknown) => ({ context: { slot: runtime.blockHeight }, value });

  return {
    getHealth: () => 'ok',
    getSlot: () => runtime.blockHeight,
    getBlockHeight: () => runtime.blockHeight,
    getLatestBlockhash: () => withContext(runtime.latestBlockhash()),
    getBalance: ([address]) => withContext(Number(runtime.lamports(publicKey(address)))),
    getAccountInfo: ([address]) => withContext(accountJson(runtime.account(publicKey(address)))),
    getMultipleAccounts: ([addresses]) =>
      withContext(list(addresses).map((address) => accountJson(runtime.account(publicKey(address))))),

    simulateTransaction: ([encoded, config]) => {
      const { err, logs, computeUnits } = runtime.simulate(transaction(encoded, config));
      return withContext({
        err,
        logs,
        accounts: null,
        unitsConsumed: Number(computeUnits),
        returnData: null,
      });
    },

    sendTransaction: async ([encoded, config]) => {
      const tx = transaction(encoded, config);
      const signature = bs58.encode(tx.signatures[0]!);
      // A dropped submission is acknowledged all the same: a client only learns by polling.
      if (hooks.drops > 0) {
        hooks.drops -= 1;
        return signature;
      }
      const skipPreflight = (config as { skipPreflight?: boolean } | undefined)?.skipPreflight === true;
      const outcome = await runtime.submit(signedTransaction(tx), { preflight: !skipPreflight });
      if (outcome.landed) {
        if (hooks.confirmationDelayMs > 0) confirmsAt.set(signature, Date.now() + hooks.confirmationDelayMs);
        return signature;
      }
      // Without preflight a validator drops what it cannot run (expired, already processed) silently.
      if (skipPreflight) return signature;
      throw new RpcError(-32002, `Transaction simulation failed: ${JSON.stringify(outcome.err)}`, {
        err: outcome.err,
        logs: outcome.logs,
        accounts: null,
        unitsConsumed: 0,
      });
    },

    getSignatureStatuses: ([signatures]) =>
      withContext(
        list(signatures).map((signature) => {
          const record = runtime.transaction(String(signature));
          if (!record) return null;
          return {
            slot: record.slot,
            confirmations: 0,
            err: record.err,
            status: record.err === null ? { Ok: null } : { Err: record.err },
            confirmationStatus: isConfirmed(record.signature) ? 'confirmed' : 'processed',
          };
        }),
      ),

    getTransaction: ([signature]) => {
      const record = runtime.transaction(String(signature));
      return record && isConfirmed(record.signature) ? transactionJson(record) : null;
    },
  };
}

function transactionJson({
  slot,
  transaction,
  err,
  preBalances,
  postBalances,
  logs,
  computeUnits,
}: LandedTransaction) {
  const { message } = transaction;
  const sum = (balances: bigint[]) => balances.reduce((a, b) => a + b, 0n);
  return {
    slot,
    blockTime: null,
    version: transaction.version,
    transaction: {
      signatures: transaction.signatures.map((signature) => bs58.encode(signature)),
      message: {
        header: message.header,
        accountKeys: message.staticAccountKeys.map((key) => key.toBase58()),
        recentBlockhash: message.recentBlockhash,
        instructions: message.compiledInstructions.map(({ programIdIndex, accountKeyIndexes, data }) => ({
          programIdIndex,
          accounts: accountKeyIndexes,
          data: bs58.encode(data),
        })),
      },
    },
    meta: {
      err,
      status: err === null ? { Ok: null } : { Err: err },
      // Lamports leave the transaction's accounts only as the fee (rent just moves between them).
      fee: Number(sum(preBalances) - sum(postBalances)),
      preBalances: preBalances.map(Number),
      postBalances: postBalances.map(Number),
      logMessages: logs,
      innerInstructions: [],
      preTokenBalances: [],
      postTokenBalances: [],
      rewards: [],
      loadedAddresses: { writable: [], readonly: [] },
      computeUnitsConsumed: Number(computeUnits),
    },
  };
}

function accountJson(account: ChainAccount | null) {
  if (!account) return null;
  return {
    lamports: Number(account.lamports),
    owner: account.owner,
    executable: account.executable,
    rentEpoch: 0,
    space: account.data.length,
    data: [Buffer.from(account.data).toString('base64'), 'base64'],
  };
}

function publicKey(value: unknown): PublicKey {
  try {
    return new PublicKey(String(value));
  } catch {
    throw new RpcError(-32602, `Invalid param: not a public key: ${JSON.stringify(value)}`);
  }
}

function list(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new RpcError(-32602, 'Invalid params: expected an array');
  return value;
}

function transaction(encoded: unknown, config: unknown): VersionedTransaction {
  if ((config as { encoding?: unknown } | undefined)?.encoding !== 'base64') {
    throw new RpcError(-32602, 'Invalid params: only base64-encoded transactions are supported');
  }
  try {
    return VersionedTransaction.deserialize(Buffer.from(String(encoded), 'base64'));
  } catch (cause) {
    throw new RpcError(-32602, `Invalid params: not a transaction: ${(cause as Error).message}`);
  }
}
