import { createPublicKey, sign, verify } from 'node:crypto';
import {
  createAssociatedTokenAccountIdempotentInstruction,
  createTransferCheckedInstruction,
  getAssociatedTokenAddressSync,
} from '@solana/spl-token';
import {
  ComputeBudgetProgram,
  type Keypair,
  PublicKey,
  SystemProgram,
  TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import bs58 from 'bs58';
import { privateKeyOf } from './keys';

/** Transaction building shared by both adapters (and the embedded chain's own mint and funding). */

export const USDC_DECIMALS = 6;
export const MAINNET_USDC_MINT = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const MEMO_PROGRAM_ID = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');

export interface PriorityFee {
  microLamportsPerUnit: bigint;
  /** Set explicitly so the fee (price × limit) is known in advance. */
  computeUnitLimit: number;
}

export interface SignedTransaction {
  /** The first signature (the fee payer's), base58: the transaction's id. */
  signature: string;
  transaction: VersionedTransaction;
  /** The wire bytes: signed once, and resent as they are. */
  bytes: Uint8Array;
}

export interface Blockhash {
  blockhash: string;
  lastValidBlockHeight: number;
}

/** Derived addresses remembered; far more than the wallets and agents one process pays. */
const ADDRESS_CACHE_LIMIT = 10_000;
const tokenAddresses = new Map<string, PublicKey>();

/**
 * Recipients may be program-derived addresses, so off-curve owners are allowed. Deriving one is a
 * SHA-256 search with a pure-JS curve check, paid for payer and recipients on every payment, so
 * derivations are remembered (public data, and the same inputs always give the same address).
 */
export function associatedTokenAddress(owner: PublicKey, mint: PublicKey): PublicKey {
  const key = `${owner.toBuffer().toString('hex')}${mint.toBuffer().toString('hex')}`;
  let address = tokenAddresses.get(key);
  if (!address) {
    address = getAssociatedTokenAddressSync(mint, owner, true);
    if (tokenAddresses.size >= ADDRESS_CACHE_LIMIT)
      tokenAddresses.delete(tokenAddresses.keys().next().value!);
    tokenAddresses.set(key, address);
  }
  return address;
}

export function usdcTransferInstructions(
  payer: PublicKey,
  mint: PublicKey,
  transfers: Array<{ to: PublicKey; amount: bigint }>,
): TransactionInstruction[] {
  const source = associatedTokenAddress(payer, mint);
  return transfers.flatMap(({ to, amount }) => {
    const destination = associatedTokenAddress(to, mint);
    return [
      createAssociatedTokenAccountIdempotentInstruction(payer, destination, to, mint),
      createTransferCheckedInstruction(source, mint, destination, payer, amount, USDC_DECIMALS),
    ];
  });
}

export const solTransferInstruction = (
  from: PublicKey,
  to: PublicKey,
  lamports: bigint,
): TransactionInstruction => SystemProgram.transfer({ fromPubkey: from, toPubkey: to, lamports });

export const memoInstruction = (memo: string): TransactionInstruction =>
  new TransactionInstruction({ programId: MEMO_PROGRAM_ID, keys: [], data: Buffer.from(memo, 'utf8') });

export const priorityFeeInstructions = (fee: PriorityFee): TransactionInstruction[] => [
  ComputeBudgetProgram.setComputeUnitLimit({ units: fee.computeUnitLimit }),
  ComputeBudgetProgram.setComputeUnitPrice({ microLamports: fee.microLamportsPerUnit }),
];

/** A legacy transaction paid by the first signer. */
export function signTransaction(
  instructions: TransactionInstruction[],
  signers: Keypair[],
  blockhash: string,
): SignedTransaction {
  const [payer] = signers;
  if (!payer) throw new RangeError('a transaction needs a fee payer');
  const message = new TransactionMessage({
    payerKey: payer.publicKey,
    recentBlockhash: blockhash,
    instructions,
  }).compileToLegacyMessage();
  const transaction = new VersionedTransaction(message);
  // As `transaction.sign(signers)` does, but with Node's native ed25519 instead of @noble's pure
  // JavaScript: ed25519 is deterministic, so the signatures are the very same bytes.
  const bytes = message.serialize();
  const required = message.staticAccountKeys.slice(0, message.header.numRequiredSignatures);
  for (const signer of signers) {
    const index = required.findIndex((key) => key.equals(signer.publicKey));
    if (index < 0) throw new Error(`Cannot sign with non signer key ${signer.publicKey.toBase58()}`);
    transaction.signatures[index] = new Uint8Array(sign(null, bytes, privateKeyOf(signer)));
  }
  return signedTransaction(transaction);
}

export function signedTransaction(transaction: VersionedTransaction): SignedTransaction {
  return {
    signature: bs58.encode(transaction.signatures[0]!),
    transaction,
    bytes: transaction.serialize(),
  };
}

/** The first signer the message requires whose signature is missing or does not verify. */
export function unverifiedSigner(transaction: VersionedTransaction): PublicKey | undefined {
  const { message, signatures } = transaction;
  const bytes = message.serialize();
  const signers = message.staticAccountKeys.slice(0, message.header.numRequiredSignatures);
  return signers.find((key, i) => {
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(key.toBytes()).toString('base64url') },
      format: 'jwk',
    });
    const signature = signatures[i];
    return !signature || !verify(null, bytes, publicKey, signature);
  });
}

/** The programs a transaction's instructions call, by instruction index. */
export function instructionPrograms(transaction: VersionedTransaction): PublicKey[] {
  const { compiledInstructions, staticAccountKeys } = transaction.message;
  return compiledInstructions.map((instruction) => staticAccountKeys[instruction.programIdIndex]!);
}
