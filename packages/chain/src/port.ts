import { type PublicKey, type TransactionInstruction, VersionedTransaction } from '@solana/web3.js';
import type { BeforeSend, Movement, Signer, SolanaNetwork, SolanaPort, TransactionStatus } from '@tdk/core';
import { toKeypair, toPublicKey } from './keys';
import {
  associatedTokenAddress,
  type Blockhash,
  memoInstruction,
  type PriorityFee,
  priorityFeeInstructions,
  type SignedTransaction,
  signedTransaction,
  signTransaction,
  solTransferInstruction,
  USDC_DECIMALS,
  unverifiedSigner,
  usdcTransferInstructions,
} from './transactions';

/** What an adapter must provide; the port's operations are built on it once, for both adapters. */
export interface ChainBackend {
  latestBlockhash(): Promise<Blockhash>;
  /** Sends, waits for confirmation, and says what the payer's SOL dropped by; throws ChainError. */
  submit(transaction: SignedTransaction, lastValidBlockHeight: number): Promise<Movement>;
  /** Each address's account, or null where none exists. */
  accounts(addresses: PublicKey[]): Promise<Array<{ lamports: bigint; data: Uint8Array } | null>>;
  /** From the landed transaction's own balances; throws ChainError `unreachable` when it is not found. */
  lamportsSpentOf(signature: string): Promise<bigint>;
  transactionStatus(signature: string): Promise<TransactionStatus>;
  ping(): Promise<void>;
}

export interface PortOptions {
  network: SolanaNetwork;
  usdcMint: string;
  priorityFee?: PriorityFee | undefined;
}

export function createPort(backend: ChainBackend, options: PortOptions): SolanaPort {
  const mint = toPublicKey(options.usdcMint, 'usdcMint');
  const budget = options.priorityFee ? priorityFeeInstructions(options.priorityFee) : [];

  async function move(
    from: Signer,
    instructions: (payer: PublicKey) => TransactionInstruction[],
    memo: string | undefined,
    beforeSend: BeforeSend['beforeSend'],
  ): Promise<Movement> {
    const payer = toKeypair(from);
    const memoInstructions = memo === undefined ? [] : [memoInstruction(memo)];
    const { blockhash, lastValidBlockHeight } = await backend.latestBlockhash();
    const signed = signTransaction(
      [...budget, ...instructions(payer.publicKey), ...memoInstructions],
      [payer],
      blockhash,
    );
    await beforeSend?.(signed.signature);
    return backend.submit(signed, lastValidBlockHeight);
  }

  return {
    network: options.network,
    usdcMint: mint.toBase58(),
    usdcDecimals: USDC_DECIMALS,

    async balances(owner) {
      const wallet = toPublicKey(owner, 'owner');
      const [account, tokenAccount] = await backend.accounts([wallet, associatedTokenAddress(wallet, mint)]);
      return { lamports: account?.lamports ?? 0n, usdc: tokenAccount ? tokenAmount(tokenAccount.data) : 0n };
    },

    async transferSol({ from, to, lamports, memo, beforeSend }) {
      const recipient = toPublicKey(to, 'to');
      positive(lamports, 'lamports');
      return move(from, (payer) => [solTransferInstruction(payer, recipient, lamports)], memo, beforeSend);
    },

    async transferUsdc({ from, transfers, memo, beforeSend }) {
      if (transfers.length === 0) throw new RangeError('transfers: at least one is needed');
      const parsed = transfers.map(({ to, amount }, i) => ({
        to: toPublicKey(to, `transfers[${i}].to`),
        amount: positive(amount, `transfers[${i}].amount`),
      }));
      return move(from, (payer) => usdcTransferInstructions(payer, mint, parsed), memo, beforeSend);
    },

    latestBlockhash: () => backend.latestBlockhash(),

    async submitSigned(serializedBase64) {
      const signed = signedCopy(serializedBase64);
      // Its blockhash, if the chain still accepts it, expires no later than the latest one (and
      // one already expired is refused up front), so waiting up to the latest's height is enough.
      const { lastValidBlockHeight } = await backend.latestBlockhash();
      return backend.submit(signed, lastValidBlockHeight);
    },

    lamportsSpentOf: (signature) => backend.lamportsSpentOf(signature),
    transactionStatus: (signature) => backend.transactionStatus(signature),
    ping: () => backend.ping(),
  };
}

function positive(amount: bigint, what: string): bigint {
  if (amount <= 0n) throw new RangeError(`${what}: must be positive, got ${amount}`);
  return amount;
}

/** A transaction signed elsewhere, refused before it is sent unless every signature it needs verifies. */
function signedCopy(serializedBase64: string): SignedTransaction {
  let transaction: VersionedTransaction;
  try {
    transaction = VersionedTransaction.deserialize(Buffer.from(serializedBase64, 'base64'));
  } catch {
    throw new RangeError('serializedBase64: not a serialized Solana transaction');
  }
  const unsigned = unverifiedSigner(transaction);
  if (unsigned) throw new RangeError(`serializedBase64: lacks a valid signature of ${unsigned.toBase58()}`);
  return signedTransaction(transaction);
}

/** SPL token account layout: mint (32 bytes), owner (32), amount (u64 little-endian), … */
const tokenAmount = (data: Uint8Array): bigint =>
  new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(64, true);

/** What the fee payer (always account 0) lost in a transaction, from its balances around it. */
export const payerDrop = (
  preBalances: ReadonlyArray<bigint | number>,
  postBalances: ReadonlyArray<bigint | number>,
) => BigInt(preBalances[0]!) - BigInt(postBalances[0]!);
