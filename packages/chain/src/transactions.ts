import { createPublicKey, sign, verify } from 'node:crypto';
import {
  createAssociatedTokenAccountIdempotentInstruction,
  createTransferCheckedInstruction,
  getAssociatedTokenAddressSync,
} from '@solana/spl-token';
import {
  ComputeBudgetProgram,
  type Keypair,
  Message,
  PACKET_DATA_SIZE,
  PublicKey,
  SystemProgram,
  TransactionInstruction,
  VersionedTransaction,
} from '@solana/web3.js';
import bs58 from 'bs58';
import { privateKeyOf } from './keys';
import { Memo } from './memo';

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
const tokenAddresses = new Memo<PublicKey>(10_000);

/**
 * Recipients may be program-derived addresses, so off-curve owners are allowed. Deriving one is a
 * SHA-256 search with a pure-JS curve check, paid for payer and recipients on every payment, so
 * derivations are remembered (public data, and the same inputs always give the same address).
 */
export function associatedTokenAddress(owner: PublicKey, mint: PublicKey): PublicKey {
  const key = `${owner.toBuffer().toString('hex')}${mint.toBuffer().toString('hex')}`;
  return tokenAddresses.get(key, () => getAssociatedTokenAddressSync(mint, owner, true));
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

/** web3.js's serialization limits (a cluster takes at most 1232 bytes, LiteSVM more), kept: the same transactions are refused. */
const MAX_INSTRUCTIONS_SIZE = PACKET_DATA_SIZE;
const MAX_WIRE_SIZE = 2048;

/** A legacy transaction paid by the first signer. */
export function signTransaction(
  instructions: TransactionInstruction[],
  signers: Keypair[],
  blockhash: string,
): SignedTransaction {
  const [payer] = signers;
  if (!payer) throw new RangeError('a transaction needs a fee payer');
  const { message, bytes } = compileLegacyMessage(payer.publicKey, instructions, blockhash);
  const transaction = new VersionedTransaction(message);
  // As `transaction.sign(signers)` does, but with Node's native ed25519 instead of @noble's pure
  // JavaScript: ed25519 is deterministic, so the signatures are the very same bytes.
  const required = message.staticAccountKeys.slice(0, message.header.numRequiredSignatures);
  for (const signer of signers) {
    const index = required.findIndex((key) => key.equals(signer.publicKey));
    if (index < 0) throw new Error(`Cannot sign with non signer key ${signer.publicKey.toBase58()}`);
    transaction.signatures[index] = new Uint8Array(sign(null, bytes, privateKeyOf(signer)));
  }
  // The wire form, as `transaction.serialize()` writes it: signature count, signatures, message.
  const wire = new ByteWriter(MAX_WIRE_SIZE);
  wire.compactLength(transaction.signatures.length);
  for (const signature of transaction.signatures) wire.bytes(signature);
  wire.bytes(bytes);
  return { signature: bs58.encode(transaction.signatures[0]!), transaction, bytes: wire.written() };
}

interface KeyMeta {
  key: PublicKey;
  bytes: Buffer;
  isSigner: boolean;
  isWritable: boolean;
  index: number;
}

/**
 * `new TransactionMessage(…).compileToLegacyMessage()` and its `serialize()`, byte for byte, minus
 * their base58 round trips (every key to base58 and back, twice, and every instruction's data),
 * which cost ~0.8 ms a payment. Keys are told apart by their bytes, and ordered as web3.js does:
 * payer first, then signers before non-signers, writable before read-only, each in order of first
 * appearance.
 */
function compileLegacyMessage(
  payer: PublicKey,
  instructions: TransactionInstruction[],
  blockhash: string,
): { message: Message; bytes: Uint8Array } {
  const metas = new Map<string, KeyMeta>();
  const meta = (key: PublicKey, isSigner: boolean, isWritable: boolean): KeyMeta => {
    const bytes = key.toBuffer();
    const id = bytes.toString('latin1');
    const found = metas.get(id);
    if (!found) {
      const added = { key, bytes, isSigner, isWritable, index: -1 };
      metas.set(id, added);
      return added;
    }
    found.isSigner ||= isSigner;
    found.isWritable ||= isWritable;
    return found;
  };
  meta(payer, true, true);
  const compiled = instructions.map(({ programId, keys, data }) => ({
    program: meta(programId, false, false),
    accounts: keys.map(({ pubkey, isSigner, isWritable }) => meta(pubkey, isSigner, isWritable)),
    data,
  }));
  // 0: writable signer, 1: read-only signer, 2: writable, 3: read-only.
  const rank = ({ isSigner, isWritable }: KeyMeta) => (isSigner ? 0 : 2) + (isWritable ? 0 : 1);
  const keys = [...metas.values()].sort((a, b) => rank(a) - rank(b)); // a stable sort
  if (keys.length > 256) throw new Error('Max static account keys length exceeded');
  keys.forEach((key, index) => {
    key.index = index;
  });
  const count = (ofRank: number) => keys.filter((key) => rank(key) === ofRank).length;
  const header = {
    numRequiredSignatures: count(0) + count(1),
    numReadonlySignedAccounts: count(1),
    numReadonlyUnsignedAccounts: count(3),
  };
  const blockhashBytes = bs58.decode(blockhash);
  if (blockhashBytes.length !== 32) throw new RangeError('blockhash: expected 32 bytes');

  // The message goes on the wire after its signatures, so the wire's limit bounds it too.
  const out = new ByteWriter(MAX_WIRE_SIZE);
  out.byte(header.numRequiredSignatures);
  out.byte(header.numReadonlySignedAccounts);
  out.byte(header.numReadonlyUnsignedAccounts);
  out.compactLength(keys.length);
  for (const key of keys) out.bytes(key.bytes);
  out.bytes(blockhashBytes);
  const instructionsStart = out.length;
  out.compactLength(compiled.length);
  for (const { program, accounts, data } of compiled) {
    out.byte(program.index);
    out.compactLength(accounts.length);
    for (const account of accounts) out.byte(account.index);
    out.compactLength(data.length);
    out.bytes(data);
  }
  if (out.length - instructionsStart > MAX_INSTRUCTIONS_SIZE) {
    throw new RangeError(`transaction too large: ${out.length - instructionsStart} bytes of instructions`);
  }
  const message = new Message({
    header,
    accountKeys: keys.map((key) => key.key),
    recentBlockhash: blockhash,
    instructions: compiled.map(({ program, accounts, data }) => ({
      programIdIndex: program.index,
      accounts: accounts.map((account) => account.index),
      data: bs58.encode(data),
    })),
  });
  return { message, bytes: out.written() };
}

/** Bytes written in order into one buffer, which a transaction must fit: no array grown byte by byte. */
class ByteWriter {
  private readonly buffer: Uint8Array;
  length = 0;

  constructor(capacity: number) {
    this.buffer = new Uint8Array(capacity);
  }

  byte(value: number): void {
    this.make(1);
    this.buffer[this.length++] = value;
  }

  bytes(values: Uint8Array): void {
    this.make(values.length);
    this.buffer.set(values, this.length);
    this.length += values.length;
  }

  /** Solana's "compact-u16" length prefix: 7 bits a byte, low first. */
  compactLength(length: number): void {
    let rest = length;
    for (; rest >= 0x80; rest >>= 7) this.byte((rest & 0x7f) | 0x80);
    this.byte(rest);
  }

  /** A copy of what was written. */
  written(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  private make(room: number): void {
    if (this.length + room > this.buffer.length) {
      throw new RangeError(`transaction too large: more than ${this.buffer.length} bytes`);
    }
  }
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
