import {
  ASSOCIATED_TOKEN_PROGRAM_ID,
  createAssociatedTokenAccountIdempotentInstruction,
  type DecodedTransferCheckedInstruction,
  decodeTransferCheckedInstruction,
} from '@solana/spl-token';
import {
  type PublicKey,
  type TransactionInstruction,
  TransactionMessage,
  type VersionedMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import type { Signer, UsdcTransfer } from '@tdk/core';
import bs58 from 'bs58';
import { toKeypair, toPublicKey } from './keys';
import {
  associatedTokenAddress,
  memoInstruction,
  USDC_DECIMALS,
  unverifiedSigner,
  usdcTransferInstructions,
} from './transactions';

/**
 * Payments one party builds and another signs, as on the Tetto platform: the platform builds an
 * unsigned USDC payment, the caller checks it and signs it, the platform submits it (the Solana
 * port's `submitSigned`). Transactions travel as base64 wire bytes.
 */

/** A USDC payment: `payer` pays the network fee and every transfer, and is the only signer. */
export interface UsdcPayment {
  payer: string;
  usdcMint: string;
  transfers: UsdcTransfer[];
}

/** A transaction is not the one expected; it must not be signed or submitted. */
export class UnexpectedTransactionError extends Error {
  override readonly name = 'UnexpectedTransactionError';
}

const MEMO_PROGRAM_ID = memoInstruction('').programId;

/** A legacy transaction paid by `payer`, with its signatures left empty, as base64. */
export function unsignedTransaction(
  instructions: TransactionInstruction[],
  payer: PublicKey,
  blockhash: string,
): string {
  const message = new TransactionMessage({ payerKey: payer, recentBlockhash: blockhash, instructions });
  return base64(new VersionedTransaction(message.compileToLegacyMessage()).serialize());
}

/** The payment as TDK's own `transferUsdc` builds it (recipient accounts created if missing), unsigned. */
export function buildUnsignedUsdcPayment({
  payer,
  usdcMint,
  transfers,
  blockhash,
  memo,
}: UsdcPayment & { blockhash: string; memo?: string }): string {
  const payerKey = toPublicKey(payer, 'payer');
  const recipients = transfers.map(({ to, amount }, i) => ({
    to: toPublicKey(to, `transfers[${i}].to`),
    amount,
  }));
  return unsignedTransaction(
    [
      ...usdcTransferInstructions(payerKey, toPublicKey(usdcMint, 'usdcMint'), recipients),
      ...(memo === undefined ? [] : [memoInstruction(memo)]),
    ],
    payerKey,
    blockhash,
  );
}

/**
 * Throws UnexpectedTransactionError unless the transaction does exactly `expected` and nothing else:
 * fee payer and only signer `payer`; only TransferChecked of the USDC mint from the payer's token
 * account, summing to each recipient's amount; recipient token account creations paid by the payer;
 * memos. Anything else (another program, a compute budget, a stranger's account) is refused, so
 * signing it can cost the payer no more than the amounts, the fee and the recipients' account rent.
 */
export function checkUsdcPayment(serialized: string, expected: UsdcPayment): void {
  const { message } = decode(serialized);
  const payer = toPublicKey(expected.payer, 'payer');
  const mint = toPublicKey(expected.usdcMint, 'usdcMint');
  if (message.addressTableLookups.length > 0) unexpected('it loads accounts from lookup tables');
  if (!message.staticAccountKeys[0]?.equals(payer)) unexpected('its fee payer is not the payer');
  if (message.header.numRequiredSignatures !== 1) unexpected('it needs signers other than the payer');

  // Amounts by recipient, keyed by the recipient's token account (what a transfer names).
  const owed = new Map<string, { owner: PublicKey; amount: bigint }>();
  for (const { to, amount } of expected.transfers) {
    const owner = toPublicKey(to, 'transfers.to');
    const account = associatedTokenAddress(owner, mint).toBase58();
    owed.set(account, { owner, amount: (owed.get(account)?.amount ?? 0n) + amount });
  }
  const paid = new Map<string, bigint>();

  instructionsOf(message).forEach((instruction, index) => {
    const { programId } = instruction;
    if (programId.equals(MEMO_PROGRAM_ID) && instruction.keys.length === 0) return;
    if (programId.equals(ASSOCIATED_TOKEN_PROGRAM_ID)) {
      const created = instruction.keys[1]?.pubkey.toBase58() ?? '';
      const recipient = owed.get(created);
      if (
        !recipient ||
        recipient.amount <= 0n ||
        !isAccountCreation(instruction, payer, recipient.owner, mint)
      ) {
        unexpected(`instruction ${index} creates an account that is not a recipient's`);
      }
      return;
    }
    const transfer = usdcTransferFromPayer(instruction, payer, mint);
    if (!transfer) unexpected(`instruction ${index} is not a USDC payment from the payer`);
    const account = transfer.keys.destination.pubkey.toBase58();
    paid.set(account, (paid.get(account) ?? 0n) + transfer.data.amount);
  });

  for (const [account, { owner, amount }] of owed) {
    const sent = paid.get(account) ?? 0n;
    if (sent !== amount) unexpected(`it pays ${owner.toBase58()} ${sent}, not ${amount}`);
    paid.delete(account);
  }
  const [stranger] = [...paid].filter(([, amount]) => amount > 0n);
  if (stranger) unexpected(`it pays ${stranger[1]} to the token account ${stranger[0]}, not a recipient`);
}

/** Create or CreateIdempotent of `owner`'s USDC account, funded by the payer. */
function isAccountCreation(
  instruction: TransactionInstruction,
  payer: PublicKey,
  owner: PublicKey,
  mint: PublicKey,
): boolean {
  const canonical = createAssociatedTokenAccountIdempotentInstruction(
    payer,
    associatedTokenAddress(owner, mint),
    owner,
    mint,
  );
  const { keys, data } = instruction;
  const sameKeys =
    keys.length === canonical.keys.length &&
    keys.every((key, i) => key.pubkey.equals(canonical.keys[i]!.pubkey));
  return sameKeys && (data.length === 0 || (data.length === 1 && data[0] === 1));
}

function usdcTransferFromPayer(
  instruction: TransactionInstruction,
  payer: PublicKey,
  mint: PublicKey,
): DecodedTransferCheckedInstruction | undefined {
  let decoded: DecodedTransferCheckedInstruction;
  try {
    decoded = decodeTransferCheckedInstruction(instruction);
  } catch {
    return undefined;
  }
  const { source, mint: transferMint, owner, multiSigners } = decoded.keys;
  const fromPayer =
    owner.pubkey.equals(payer) &&
    multiSigners.length === 0 &&
    source.pubkey.equals(associatedTokenAddress(payer, mint));
  const usdc = transferMint.pubkey.equals(mint) && decoded.data.decimals === USDC_DECIMALS;
  return fromPayer && usdc ? decoded : undefined;
}

/** Adds `signer`'s signature; `signature` is the transaction's id when `signer` is the fee payer. */
export function signSerializedTransaction(
  serialized: string,
  signer: Signer,
): { signedBase64: string; signature: string } {
  const transaction = decode(serialized);
  const keypair = toKeypair(signer);
  transaction.sign([keypair]);
  const index = transaction.message.staticAccountKeys.findIndex((key) => key.equals(keypair.publicKey));
  return {
    signedBase64: base64(transaction.serialize()),
    signature: bs58.encode(transaction.signatures[index]!),
  };
}

/**
 * The fee payer's signature of `signed`, once sure it is `unsigned` (the very same message) with
 * every required signature present and valid; throws UnexpectedTransactionError otherwise.
 */
export function checkSignedCopy(unsigned: string, signed: string): string {
  const original = decode(unsigned).message.serialize();
  const transaction = decode(signed);
  if (Buffer.compare(original, transaction.message.serialize()) !== 0) {
    unexpected('it is not the transaction that was built');
  }
  const missing = unverifiedSigner(transaction);
  if (missing) unexpected(`it lacks a valid signature of ${missing.toBase58()}`);
  return bs58.encode(transaction.signatures[0]!);
}

function decode(serialized: string): VersionedTransaction {
  try {
    return VersionedTransaction.deserialize(Buffer.from(serialized, 'base64'));
  } catch (cause) {
    throw new UnexpectedTransactionError('not a serialized Solana transaction', { cause });
  }
}

function instructionsOf(message: VersionedMessage): TransactionInstruction[] {
  try {
    return TransactionMessage.decompile(message).instructions;
  } catch (cause) {
    throw new UnexpectedTransactionError('unexpected transaction: its message is malformed', { cause });
  }
}

function unexpected(reason: string): never {
  throw new UnexpectedTransactionError(`unexpected transaction: ${reason}`);
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
